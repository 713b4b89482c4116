// The directory tree of a files repository, from the database: directories exist while a
// file lies below them. Conflicts between files and directories, the listing scopes a
// change touches, and the listing documents of one directory.
import { conflict, type WharfError } from '../../core/errors.ts';
import type { IndexDocument, RepoContext } from '../../core/format-plugin.ts';
import { renderListingHtml, renderListingJson } from './listing.ts';
import { dirScope, listingKey, parentDir } from './paths.ts';

/** A directory (ending in '/') exists when at least one file lies below it; the root always does. */
export async function directoryExists(ctx: RepoContext, dir: string): Promise<boolean> {
  if (dir === '') return true;
  const { files, dirs } = await ctx.store.listDirectory(ctx.repo.id, dir, 1);
  return files.length + dirs.length > 0;
}

/** A file may not sit where a directory is, nor below another file: the conflict, if any. */
export async function treeConflict(ctx: RepoContext, path: string): Promise<WharfError | undefined> {
  const segments = path.split('/');
  const ancestors = segments.slice(1).map((_, i) => segments.slice(0, i + 1).join('/'));
  // Looked up together: a path is a few levels deep, and this runs for every upload.
  const found = await Promise.all(ancestors.map((a) => ctx.store.getFileByPath(ctx.repo.id, a)));
  const i = found.findIndex((f) => f !== undefined);
  if (i >= 0) return conflict(`/${ancestors[i]} is a file, so it cannot be a directory`);
  if (await directoryExists(ctx, `${path}/`)) return conflict(`/${path} is a directory`);
  return undefined;
}

/**
 * The listing scopes that change when the file at `path` appears or disappears, judged in
 * the state without it: its own directory, and each ancestor that gains (or loses) a
 * subdirectory because that directory had (or has) no other file below it.
 */
export async function scopesForPathChange(ctx: RepoContext, path: string): Promise<string[]> {
  let dir = parentDir(path);
  const scopes = [dirScope(dir)];
  while (dir !== '' && !(await directoryExists(ctx, dir))) {
    dir = parentDir(dir);
    scopes.push(dirScope(dir));
  }
  return scopes;
}

/** The HTML and JSON listings of one directory; none (unpublished) once it is empty, except the root. */
export async function buildDirectoryDocuments(ctx: RepoContext, dir: string): Promise<IndexDocument[]> {
  const { files, dirs } = await ctx.store.listDirectory(ctx.repo.id, dir);
  if (dir !== '' && files.length + dirs.length === 0) return [];
  const listing = {
    repository: ctx.repo.name,
    dir,
    dirs,
    files: files.map((f) => ({ name: f.filename, size: f.size, modified: f.createdAt, sha256: f.sha256 })),
  };
  return [
    { key: listingKey(dir, 'html'), contentType: 'text/html; charset=utf-8', body: renderListingHtml(listing) },
    { key: listingKey(dir, 'json'), contentType: 'application/json', body: JSON.stringify(renderListingJson(listing)) },
  ];
}
