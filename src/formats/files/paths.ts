// Paths of a files repository: parsing and validating what clients send (raw URL paths,
// upload fields), and the directory scopes and index keys of the listings.
//
// A stored path is decoded segments joined by '/', e.g. `releases/v1/tool-1.0.tar.gz`.
// A directory is '' (the root) or a stored path ending in '/', e.g. `releases/v1/`.
import { WharfError } from '../../core/errors.ts';

export const MAX_PATH_BYTES = 1024;
export const MAX_SEGMENT_BYTES = 255;

const invalidPath = (message: string) => new WharfError('INVALID_PATH', message);
// C0 and C1 controls and DEL: never part of a file name a client should see echoed back.
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;
const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** Refuse a decoded path segment that could escape its directory or confuse a client. */
export function checkSegment(segment: string): void {
  if (segment === '') throw invalidPath('empty path segment ("//")');
  if (segment === '.' || segment === '..') throw invalidPath('"." and ".." are not allowed in paths');
  if (segment.includes('/')) throw invalidPath('a path segment may not contain an encoded "/" (%2F)');
  if (segment.includes('\\')) throw invalidPath('"\\" is not allowed in paths');
  if (CONTROL_RE.test(segment)) throw invalidPath('control characters are not allowed in paths');
  if (utf8Bytes(segment) > MAX_SEGMENT_BYTES) throw invalidPath(`a path segment is longer than ${MAX_SEGMENT_BYTES} bytes`);
}

function checkLength(path: string): void {
  if (utf8Bytes(path) > MAX_PATH_BYTES) throw invalidPath(`the path is longer than ${MAX_PATH_BYTES} bytes`);
}

export interface RequestPath {
  /** Decoded segments; empty for the repository root. */
  segments: string[];
  /** The URL ended with '/' (or named the root): it names a directory. */
  directory: boolean;
}

/**
 * Parse the raw (still percent-encoded) URL path below `/<repo>/`. Each segment is decoded
 * on its own, so `%2F` can never join segments and `%2e%2e` is refused like `..`.
 * `mergeSlashes` ignores empty segments (`a//b`), as web servers do for reads, so a base
 * URL with a trailing slash plus `/name` still works; writes refuse them.
 */
export function parseRequestPath(raw: string, opts: { mergeSlashes?: boolean } = {}): RequestPath {
  if (raw === '') return { segments: [], directory: true };
  const parts = raw.split('/');
  const directory = parts[parts.length - 1] === '';
  if (directory) parts.pop();
  const segments: string[] = [];
  for (const part of parts) {
    if (part === '' && opts.mergeSlashes) continue;
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      throw invalidPath('malformed percent-encoding in the path');
    }
    checkSegment(segment);
    segments.push(segment);
  }
  checkLength(segments.join('/'));
  return { segments, directory: directory || segments.length === 0 };
}

/** Validate a decoded stored path (e.g. from an upload field) and return it unchanged. */
export function checkStoredPath(path: string): string {
  if (path === '') throw invalidPath('the path is empty');
  for (const segment of path.split('/')) checkSegment(segment);
  checkLength(path);
  return path;
}

const single = (fields: Record<string, string[]>, name: string): string | undefined => {
  const values = fields[name];
  if (!values || values.length === 0) return undefined;
  if (values.length > 1) throw invalidPath(`give "${name}" once`);
  return values[0];
};

/**
 * Where an upload goes: `path` (the full path, or a directory when it ends with '/'), or
 * `dir` (a directory) plus the file name, or the file name at the root. One leading '/'
 * is tolerated in both, so `--dir /releases` and `--dir releases` mean the same.
 */
export function resolveUploadPath(filename: string, fields: Record<string, string[]>): string {
  const path = single(fields, 'path');
  const dir = single(fields, 'dir');
  if (path !== undefined && dir !== undefined) throw invalidPath('give either "path" or "dir", not both');
  const strip = (s: string) => (s.startsWith('/') ? s.slice(1) : s);
  if (path !== undefined && !path.endsWith('/')) return checkStoredPath(strip(path));
  const directory = strip(path ?? dir ?? '');
  checkSegment(filename);
  if (directory === '') return checkStoredPath(filename);
  return checkStoredPath(directory.endsWith('/') ? `${directory}${filename}` : `${directory}/${filename}`);
}

/** The directory holding a stored path or a directory: `a/b/c` → `a/b/`, `a/b/` → `a/`, `a` → ''. */
export function parentDir(path: string): string {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  const slash = trimmed.lastIndexOf('/');
  return slash < 0 ? '' : trimmed.slice(0, slash + 1);
}

/** The last segment of a stored path or directory. */
export function baseName(path: string): string {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

export const SCOPE_PREFIX = 'dir:';
/** One directory's listings are one publishing scope. */
export const dirScope = (dir: string) => `${SCOPE_PREFIX}${dir}`;
export type ListingFormat = 'html' | 'json';
export const listingKey = (dir: string, format: ListingFormat) => `listing/${format}:${dir}`;
/** The scope a listing document belongs to (time travel builds scopes by the keys asked for). */
export function scopeOfListingKey(key: string): string | null {
  const m = /^listing\/(?:html|json):(.*)$/s.exec(key);
  return m ? dirScope(m[1]) : null;
}
