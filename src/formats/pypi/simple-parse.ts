// Reading another index's simple pages (PEP 503 HTML or PEP 691 JSON), for proxy
// repositories: into one model whatever the upstream speaks, with file URLs made absolute.
// A page that is not a simple page (a login or error page answered with 200, a wrong content
// type, JSON of another shape) is refused: the proxy then counts the upstream as failing and
// serves its last good copy, instead of an empty project that hides every cached file.
import { invalidPackage } from '../../core/errors.ts';
import { readStatus, type ProjectStatus } from './project-status.ts';
import { toIsoUtc } from './simple-types.ts';

export interface UpstreamFile {
  filename: string;
  /** Absolute URL at the upstream, without fragment. */
  url: string;
  sha256: string | null;
  requiresPython: string | null;
  yanked: boolean;
  yankedReason: string | null;
  /** PEP 658/714: the upstream serves `<url>.metadata`; its sha256 when given. */
  coreMetadata: { sha256: string | null } | null;
  size: number | null;
  /** PEP 700's upload-time (JSON) or data-upload-time (HTML), as ISO 8601 UTC; null when not given. */
  uploadTime: string | null;
  /** When this proxy first saw the file listed (set by the proxy, kept across refreshes); for files without uploadTime. */
  firstSeen?: string;
}

export interface UpstreamPage {
  name: string;
  files: UpstreamFile[];
  versions: string[] | null;
  /** PEP 792; absent in pages cached before Wharf read it (active). */
  status?: ProjectStatus;
}

/** An upstream's time in PEP 700's form, or null. */
const uploadTimeOf = (v: unknown): string | null => (typeof v === 'string' && toIsoUtc(v)) || null;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function unescapeHtml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/** Attributes of one start tag (`<a href="x" data-yanked>`): name → value ('' when bare). */
export function parseAttributes(tag: string): Map<string, string> {
  const attrs = new Map<string, string>();
  const re = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(tag))) {
    const name = m[1].toLowerCase();
    if (!attrs.has(name)) attrs.set(name, unescapeHtml(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return attrs;
}

function splitHash(url: URL): { url: string; sha256: string | null } {
  const frag = url.hash.slice(1);
  url.hash = '';
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(frag);
  return { url: url.toString(), sha256: m ? m[1].toLowerCase() : null };
}

function metadataAttr(value: string | undefined): { sha256: string | null } | null {
  if (value === undefined || value.toLowerCase() === 'false') return null;
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(value);
  return { sha256: m ? m[1].toLowerCase() : null };
}

function filenameOf(url: string): string {
  const path = new URL(url).pathname;
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
}

/** PEP 629: every simple page of a current index says which API version it speaks. */
const hasRepositoryVersion = (html: string) => /<meta\s[^>]*name\s*=\s*["']?pypi:repository-version/i.test(html);

/** Names a distribution (or an older installer) could have: what an anchor of a project page links to. */
const DIST_FILE = /\.(whl|tar\.gz|tgz|tar\.bz2|tbz|tar\.xz|txz|tar|zip|egg|exe|msi|rpm|dmg|deb)$/i;

/** A PEP 503 project page. `pageUrl` resolves relative links. Throws for a page that is not one. */
export function parseProjectHtml(html: string, pageUrl: string, name: string): UpstreamPage {
  const page = parseProjectAnchors(html, pageUrl, name);
  // Without the PEP 629 marker, a page counts as a project page only if it links a distribution:
  // an HTML error or login page has none, and an empty project is not worth the doubt.
  if (!hasRepositoryVersion(html) && !page.files.some((f) => DIST_FILE.test(f.filename))) {
    throw invalidPackage(`upstream answered for ${name} an HTML page that is not a simple page (no distribution links${/<title>/i.test(html) ? `, title "${titleOf(html)}"` : ''})`);
  }
  return page;
}

function titleOf(html: string): string {
  return unescapeHtml(/<title>([\s\S]*?)<\/title/i.exec(html)?.[1] ?? '').trim().slice(0, 80);
}

function parseProjectAnchors(html: string, pageUrl: string, name: string): UpstreamPage {
  const files: UpstreamFile[] = [];
  const re = /<a\s([^>]*)>([\s\S]*?)<\/a\s*>/gi;
  let m: RegExpExecArray | null;
  const base = (() => {
    const b = /<base\s([^>]*)>/i.exec(html);
    const href = b && parseAttributes(b[1]).get('href');
    return href ? new URL(href, pageUrl).toString() : pageUrl;
  })();
  while ((m = re.exec(html))) {
    const attrs = parseAttributes(m[1]);
    const href = attrs.get('href');
    if (!href) continue;
    let abs: URL;
    try {
      abs = new URL(href, base);
    } catch {
      continue;
    }
    const { url, sha256 } = splitHash(abs);
    const text = unescapeHtml(m[2].replace(/<[^>]*>/g, '')).trim();
    const filename = text || filenameOf(url);
    const yanked = attrs.has('data-yanked');
    files.push({
      filename,
      url,
      sha256,
      requiresPython: attrs.get('data-requires-python') || null,
      yanked,
      yankedReason: yanked ? attrs.get('data-yanked') || null : null,
      coreMetadata: metadataAttr(attrs.get('data-core-metadata') ?? attrs.get('data-dist-info-metadata')),
      size: null,
      uploadTime: uploadTimeOf(attrs.get('data-upload-time')),
    });
  }
  return { name, files, versions: null, status: htmlStatus(html) };
}

/** PEP 792's <meta name="pypi:project-status"> and pypi:project-status-reason, from the page's head. */
function htmlStatus(html: string): ProjectStatus {
  const head = html.slice(0, Math.max(0, html.search(/<body[\s>]/i))) || html;
  const meta = new Map<string, string>();
  const re = /<meta\s([^>]*)>/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(head))) {
    const attrs = parseAttributes(m[1]);
    const name = attrs.get('name')?.toLowerCase();
    if (name && !meta.has(name)) meta.set(name, attrs.get('content') ?? '');
  }
  return readStatus(meta.get('pypi:project-status'), meta.get('pypi:project-status-reason'));
}

/** A PEP 691 project page. */
export function parseProjectJson(text: string, pageUrl: string): UpstreamPage {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw invalidPackage('upstream page is not JSON');
  }
  const d = doc as { name?: unknown; files?: unknown; versions?: unknown; meta?: { 'api-version'?: unknown } };
  if (!d || typeof d !== 'object' || typeof d.name !== 'string' || !Array.isArray(d.files)) throw invalidPackage('upstream JSON is not a PEP 691 project page');
  const files: UpstreamFile[] = [];
  for (const f of d.files as Record<string, unknown>[]) {
    if (!f || typeof f.filename !== 'string' || typeof f.url !== 'string') continue;
    const { url } = splitHash(new URL(f.url, pageUrl));
    const hashes = (f.hashes ?? {}) as Record<string, unknown>;
    const sha = typeof hashes.sha256 === 'string' && /^[0-9a-fA-F]{64}$/.test(hashes.sha256) ? hashes.sha256.toLowerCase() : null;
    const meta = f['core-metadata'] ?? f['dist-info-metadata'];
    const metaSha = meta && typeof meta === 'object' ? (meta as Record<string, unknown>).sha256 : undefined;
    files.push({
      filename: f.filename,
      url,
      sha256: sha,
      requiresPython: typeof f['requires-python'] === 'string' && f['requires-python'] ? f['requires-python'] : null,
      yanked: f.yanked === true || (typeof f.yanked === 'string'),
      yankedReason: typeof f.yanked === 'string' && f.yanked ? f.yanked : null,
      coreMetadata: meta ? { sha256: typeof metaSha === 'string' ? metaSha.toLowerCase() : null } : null,
      size: typeof f.size === 'number' ? f.size : null,
      uploadTime: uploadTimeOf(f['upload-time']),
    });
  }
  const versions = Array.isArray(d.versions) ? d.versions.filter((v): v is string => typeof v === 'string') : null;
  const ps = (doc as { 'project-status'?: { status?: unknown; reason?: unknown } })['project-status'];
  return { name: d.name, files, versions, status: readStatus(ps && typeof ps === 'object' ? ps.status : undefined, ps && typeof ps === 'object' ? ps.reason : undefined) };
}

/** Project names of a root page, HTML or JSON. */
export function parseRoot(text: string, json: boolean): string[] {
  if (json) {
    let doc: { projects?: { name?: unknown }[] };
    try {
      doc = JSON.parse(text);
    } catch {
      throw invalidPackage('upstream root is not JSON');
    }
    if (!Array.isArray(doc.projects)) throw invalidPackage('upstream JSON is not a PEP 691 root page');
    return doc.projects.map((p) => p.name).filter((n): n is string => typeof n === 'string');
  }
  const names: string[] = [];
  // Without the PEP 629 marker, every link must look like one to a project (`<a href="name/">name</a>`).
  const marked = hasRepositoryVersion(text);
  const re = /<a\s([^>]*)>([\s\S]*?)<\/a\s*>/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const name = unescapeHtml(m[2].replace(/<[^>]*>/g, '')).trim();
    if (!marked && !(PROJECT_NAME.test(name) && /\/$/.test(parseAttributes(m[1]).get('href') ?? ''))) {
      throw invalidPackage(`upstream root is not a simple page (it links ${JSON.stringify(name.slice(0, 40))})`);
    }
    if (name) names.push(name);
  }
  if (!marked && names.length === 0) throw invalidPackage('upstream root is not a simple page (no project links)');
  return names;
}

const PROJECT_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;

/** Is this response a simple page we understand, and in which form? */
export function pageKind(contentType: string | null, body: string): 'json' | 'html' {
  const ct = (contentType ?? '').toLowerCase().split(';')[0].trim();
  if (ct === 'application/vnd.pypi.simple.v1+json' || ct === 'application/json') return 'json';
  if (ct === 'text/html' || ct === 'application/vnd.pypi.simple.v1+html' || ct === 'application/xhtml+xml') return 'html';
  throw invalidPackage(`upstream answered ${contentType ?? 'no content type'}, not a simple page${body.length ? '' : ' (empty)'}`);
}
