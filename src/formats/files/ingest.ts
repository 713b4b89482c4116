// Accepting a file: any bytes, stored under a validated path that neither replaces a
// directory nor sits below a file. Used by PUT /<repo>/<path> and by the API upload.
import { WharfError } from '../../core/errors.ts';
import type { IngestPlan, RepoContext, UploadInput } from '../../core/format-plugin.ts';
import { baseName, resolveUploadPath } from './paths.ts';
import { scopesForPathChange, treeConflict } from './tree.ts';

export async function planFilesUpload(ctx: RepoContext, upload: UploadInput): Promise<IngestPlan> {
  const { staged, fields } = upload;
  const path = resolveUploadPath(upload.filename, fields);
  const sha256 = fields.sha256?.[0];
  if (sha256 && sha256.toLowerCase() !== staged.sha256) {
    throw new WharfError('DIGEST_MISMATCH', `sha256 does not match the uploaded file (got ${staged.sha256})`);
  }
  const early = await treeConflict(ctx, path);
  if (early) throw early;
  return {
    files: [{ path, filename: baseName(path), blob: staged, meta: { md5: staged.md5 } }],
    // A new file may create directories; an overwrite changes only its own directory's listing.
    scopes: await scopesForPathChange(ctx, path),
    // Again where the row is written: a concurrent PUT of a/b may have committed since.
    conflictInTransaction: () => treeConflict(ctx, path),
    scopesInTransaction: () => scopesForPathChange(ctx, path),
  };
}
