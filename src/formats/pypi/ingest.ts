// Accepting a distribution: the filename, the core metadata inside the file and the
// uploader's form fields must all agree on name and version before anything is stored.
import { badRequest, invalidPackage, WharfError } from '../../core/errors.ts';
import type { IngestPlan, RepoContext, UploadInput } from '../../core/format-plugin.ts';
import { parseCoreMetadata, type CoreMetadata } from './core-metadata.ts';
import { readDistMetadata } from './dist-reader.ts';
import { parseDistFilename } from './filename.ts';
import { isValidProjectName, normalizeName } from './names.ts';
import { distPath, metadataPath, projectScope } from './paths.ts';
import { acceptsUploads, refuseUpload, readStatus } from './project-status.ts';
import { compareVersions, normalizeVersion } from './version.ts';

const first = (fields: Record<string, string[]>, name: string): string | undefined => {
  const v = fields[name]?.[0];
  return v === undefined || v === '' ? undefined : v;
};

/** Version metadata kept for the JSON API: the parsed core metadata, without the raw field map. */
function versionMeta(meta: CoreMetadata): Record<string, unknown> {
  const { fields: _fields, ...rest } = meta;
  return rest;
}

export async function planPypiUpload(ctx: RepoContext, upload: UploadInput): Promise<IngestPlan> {
  const { staged, fields } = upload;
  const formName = first(fields, 'name');
  const dist = parseDistFilename(upload.filename, formName);

  const filetype = first(fields, 'filetype');
  if (filetype && filetype !== dist.packagetype) {
    throw invalidPackage(`filetype ${filetype} does not match ${upload.filename}, which is a ${dist.packagetype}`);
  }
  const sha256 = first(fields, 'sha256_digest');
  if (sha256 && sha256.toLowerCase() !== staged.sha256) {
    throw new WharfError('DIGEST_MISMATCH', `sha256_digest does not match the uploaded file (got ${staged.sha256})`);
  }
  const md5 = first(fields, 'md5_digest');
  if (md5 && md5.toLowerCase() !== staged.md5) {
    throw new WharfError('DIGEST_MISMATCH', `md5_digest does not match the uploaded file (got ${staged.md5})`);
  }

  const raw = await readDistMetadata(staged, dist);
  const meta = parseCoreMetadata(raw);
  if (!isValidProjectName(meta.name)) throw invalidPackage(`invalid project name in metadata: ${JSON.stringify(meta.name)}`);
  const project = normalizeName(meta.name);
  if (project !== dist.normalizedName) {
    throw new WharfError('NAME_MISMATCH', `the filename says ${dist.name} but the metadata says ${meta.name}`);
  }
  if (formName !== undefined && normalizeName(formName) !== project) {
    throw new WharfError('NAME_MISMATCH', `the form says ${formName} but the metadata says ${meta.name}`);
  }
  const version = normalizeVersion(meta.version);
  if (version === null) throw invalidPackage(`invalid version in metadata: ${JSON.stringify(meta.version)}; see PEP 440`);
  if (normalizeVersion(dist.version) !== version) {
    throw new WharfError('NAME_MISMATCH', `the filename says version ${dist.version} but the metadata says ${meta.version}`);
  }
  const formVersion = first(fields, 'version');
  if (formVersion !== undefined && normalizeVersion(formVersion) !== version) {
    throw new WharfError('NAME_MISMATCH', `the form says version ${formVersion} but the metadata says ${meta.version}`);
  }
  const action = first(fields, ':action');
  if (action !== undefined && action !== 'file_upload') throw badRequest(`unsupported :action ${action}`);

  // PEP 792: archived and quarantined projects take no new uploads. Checked here, so a refused
  // file commits no blob, and again where the rows are written (a status may change meanwhile).
  const statusRefusal = async () => {
    const stored = await ctx.store.getPackageStatus(ctx.repo.id, project);
    return stored && !acceptsUploads(readStatus(stored.status, stored.reason)) ? refuseUpload(meta.name, readStatus(stored.status, stored.reason)) : undefined;
  };
  const refused = await statusRefusal();
  if (refused) throw refused;

  const path = distPath(project, upload.filename);
  const files: IngestPlan['files'] = [];
  let coreMetadataSha256: string | null = null;
  if (dist.kind === 'wheel') {
    // PEP 658: the wheel's METADATA is served as its own file, so pip can resolve without downloading wheels.
    const metaBlob = await ctx.blobs.stageBuffer(raw);
    coreMetadataSha256 = metaBlob.sha256;
    files.push({ path: metadataPath(path), filename: `${upload.filename}.metadata`, blob: metaBlob, meta: { kind: 'core-metadata', of: upload.filename } });
  }
  files.unshift({
    path,
    filename: upload.filename,
    blob: staged,
    meta: {
      kind: 'dist',
      packagetype: dist.packagetype,
      pythonVersion: dist.pyversion,
      requiresPython: meta.requiresPython ?? null,
      md5: staged.md5,
      coreMetadataSha256,
      yanked: false,
      yankedReason: null,
    },
  });
  return {
    package: { name: project, displayName: meta.name, version, versionMeta: versionMeta(meta), summary: meta.summary ?? '', compareVersions },
    files,
    scopes: [projectScope(project)],
    conflictInTransaction: statusRefusal,
  };
}
