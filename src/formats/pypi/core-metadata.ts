// Core metadata (METADATA in wheels, PKG-INFO in sdists), read the way Python's
// email parser (compat32) reads it: `Name: value` headers, folded continuation
// lines, and the body after the first blank line as the long description.
import { invalidPackage } from '../../core/errors.ts';

export interface CoreMetadata {
  metadataVersion: string;
  name: string;
  version: string;
  summary?: string;
  requiresPython?: string;
  requiresDist: string[];
  providesExtra: string[];
  classifiers: string[];
  projectUrls: Record<string, string>;
  homePage?: string;
  downloadUrl?: string;
  author?: string;
  authorEmail?: string;
  maintainer?: string;
  maintainerEmail?: string;
  license?: string;
  licenseExpression?: string;
  keywords?: string;
  platforms: string[];
  dynamic: string[];
  licenseFiles: string[];
  description?: string;
  descriptionContentType?: string;
  /** Every header, lowercase name → all its values in order. */
  fields: Record<string, string[]>;
}

/** Fields the specification allows more than once. */
export const MULTIPLE_USE_FIELDS: ReadonlySet<string> = new Set([
  'classifier', 'requires-dist', 'provides-extra', 'project-url', 'requires-external',
  'dynamic', 'license-file', 'platform', 'supported-platform', 'obsoletes-dist',
  'provides-dist', 'requires', 'provides', 'obsoletes',
]);

// A header line as the feedparser accepts it: printable ASCII except `:` and space, then `:`.
const HEADER_RE = /^([\x21-\x39\x3b-\x7e]+):([\s\S]*)$/;

/** textwrap.dedent: drop the common leading whitespace of the non-blank lines. */
function dedent(lines: string[]): string[] {
  let common: string | null = null;
  for (const line of lines) {
    if (line.trim() === '') continue;
    const indent = /^[ \t]*/.exec(line)![0];
    if (common === null) { common = indent; continue; }
    let i = 0;
    while (i < common.length && i < indent.length && common[i] === indent[i]) i++;
    common = common.slice(0, i);
  }
  return lines.map((l) => (l.trim() === '' ? '' : l.slice(common?.length ?? 0)));
}

/**
 * A folded value as setuptools' rfc822_unescape reads it: the first line, then the
 * continuation lines dedented, joined by newlines (multi-line License/Description).
 */
function unfold(first: string, continuation: string[]): string {
  if (continuation.length === 0) return first.trim();
  return [first.trim(), ...dedent(continuation)].join('\n').trimEnd();
}

function decode(input: string | Uint8Array): string {
  if (typeof input === 'string') return input;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    throw invalidPackage('core metadata is not valid UTF-8');
  }
}

/**
 * Parse METADATA / PKG-INFO. Throws `invalidPackage` when Metadata-Version, Name
 * or Version is missing; their syntax is left to the caller (legacy uploads).
 */
export function parseCoreMetadata(input: string | Uint8Array): CoreMetadata {
  const text = decode(input).replace(/^\uFEFF/, '');
  const lines = text.split(/\r\n|\n|\r/);
  const headers: { name: string; first: string; more: string[] }[] = [];
  let i = 0;
  if (lines[0]?.startsWith('From ')) i++; // an mbox "unix from" line
  let bodyStart = lines.length;
  for (; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') { bodyStart = i + 1; break; }
    if (line[0] === ' ' || line[0] === '\t') {
      // A continuation before any header is a defect Python ignores too.
      headers.at(-1)?.more.push(line);
      continue;
    }
    const m = HEADER_RE.exec(line);
    if (!m) { bodyStart = i; break; } // no blank line before the body: Python starts the body here
    headers.push({ name: m[1].toLowerCase(), first: m[2], more: [] });
  }

  const fields: Record<string, string[]> = Object.create(null);
  for (const h of headers) (fields[h.name] ??= []).push(unfold(h.first, h.more));
  const one = (name: string): string | undefined => {
    const v = fields[name]?.[0];
    return v === undefined || v === '' ? undefined : v;
  };
  const all = (name: string): string[] => (fields[name] ?? []).filter((v) => v !== '');

  const metadataVersion = one('metadata-version');
  const name = one('name');
  const version = one('version');
  if (!metadataVersion) throw invalidPackage('core metadata has no Metadata-Version field');
  if (!name) throw invalidPackage('core metadata has no Name field');
  if (!version) throw invalidPackage('core metadata has no Version field');

  const projectUrls: Record<string, string> = Object.create(null);
  for (const entry of all('project-url')) {
    const comma = entry.indexOf(',');
    const label = comma === -1 ? '' : entry.slice(0, comma).trim();
    const url = (comma === -1 ? entry : entry.slice(comma + 1)).trim();
    if (url) projectUrls[label || url] = url;
  }

  const body = lines.slice(bodyStart).join('\n');
  const description = body.trim() !== '' ? body : one('description');

  const optional: Partial<CoreMetadata> = {
    summary: one('summary'),
    requiresPython: one('requires-python'),
    homePage: one('home-page'),
    downloadUrl: one('download-url'),
    author: one('author'),
    authorEmail: one('author-email'),
    maintainer: one('maintainer'),
    maintainerEmail: one('maintainer-email'),
    license: one('license'),
    licenseExpression: one('license-expression'),
    keywords: one('keywords'),
    description,
    descriptionContentType: one('description-content-type'),
  };
  for (const k of Object.keys(optional) as (keyof CoreMetadata)[]) if (optional[k] === undefined) delete optional[k];

  return {
    metadataVersion, name, version,
    ...optional,
    requiresDist: all('requires-dist'),
    providesExtra: all('provides-extra'),
    classifiers: all('classifier'),
    projectUrls: { ...projectUrls },
    platforms: all('platform'),
    dynamic: all('dynamic'),
    licenseFiles: all('license-file'),
    fields: { ...fields },
  };
}
