// PyPI proxy repositories: an upstream index (pypi.org or any PEP 503/691 index) read
// through the shared proxy cache. Pages are parsed into one model and rendered by Wharf, so
// every file URL points here; files are fetched once, checked against the upstream's sha256
// and kept for good.
import { createHash } from 'node:crypto';
import { invalidPackage, notFound } from '../../core/errors.ts';
import type { IngestPlan, RepoContext } from '../../core/format-plugin.ts';
import type { MetadataResult } from '../../core/proxy/metadata-cache.ts';
import type { ContentResult } from '../../core/proxy/content-cache.ts';
import { looksLike } from '../../core/proxy/looks-like.ts';
import { proxyOptionsOf } from '../../core/proxy/options.ts';
import { UpstreamUnavailable } from '../../core/proxy/upstream.ts';
import type { StagedBlob } from '../../storage/blob-store.ts';
import { parseDistFilename } from './filename.ts';
import { normalizeName } from './names.ts';
import { distPath, fileUrlFromPage, metadataPath } from './paths.ts';
import { offersFiles, refuseDownload } from './project-status.ts';
import { pageKind, parseProjectHtml, parseProjectJson, parseRoot, type UpstreamFile, type UpstreamPage } from './simple-parse.ts';
import { normalizeVersion } from './version.ts';
import { tooYoung, tooYoungError, type Cooldown } from '../../core/cooldown.ts';
import { coolJsonApi, projectCooldown } from './cooldown.ts';
import { toIsoUtc } from './simple-types.ts';

const ACCEPT_PAGE = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1';
const MODEL_TYPE = 'application/x-wharf-upstream-page+json';

async function cachedUpstream(ctx: RepoContext, key: string, target: string, parse: (text: string, res: Response, prev: Uint8Array | null) => unknown): Promise<MetadataResult> {
  const opts = proxyOptionsOf(ctx.repo.options);
  return ctx.services.metadata.get(ctx.repo, key, opts, async (prev) => {
    const res = await ctx.services.upstream.fetch(ctx.repo, opts, target, { accept: ACCEPT_PAGE, etag: prev?.etag, lastModified: prev?.lastModified, maxBytes: opts.maxMetadataBytes });
    if (res.status === 304) return { status: 304 };
    if (res.status === 404 || res.status === 410) return { status: 404 };
    if (!res.ok) throw new UpstreamUnavailable(`upstream answered ${res.status} for ${target}`);
    // Parse before storing: an error page that answers 200 is never cached.
    const model = parse(await res.text(), res, prev?.body ?? null);
    return { status: 200, body: Buffer.from(JSON.stringify(model)), contentType: MODEL_TYPE, etag: res.headers.get('etag'), lastModified: res.headers.get('last-modified') };
  });
}

export interface ProxyPage {
  page: UpstreamPage | null;
  stale: boolean;
  /** Changes whenever the cached page does: part of render cache keys. */
  state: string;
  /** Until when (ms) the page is fresh: answers built from it may be reused until then. */
  freshUntil: number;
}

// Parsed models of cached pages, by entry (a memo the core holds, for every repository
// together): parsing a page of many files per request would cost more than serving it. Bounded
// in bytes (estimated by the cached body's size) as well as in number: the pages of large
// projects run to megabytes each.
export const PARSED_PAGES_MAX_BYTES = 64 * 1024 * 1024;
export const PARSED_PAGES = { maxEntries: 2000, maxBytes: PARSED_PAGES_MAX_BYTES };
export function parseOnce<T>(ctx: RepoContext, entry: { key: string; fetchedAt: number; body: Uint8Array | null }): T {
  const parsedPages = ctx.state.memo<unknown>('pypi:parsed-pages', PARSED_PAGES);
  const k = `${entry.key}\0${entry.fetchedAt}`;
  let v = parsedPages.get(k);
  if (v === undefined) {
    v = JSON.parse(Buffer.from(entry.body!).toString());
    parsedPages.set(k, v, entry.body!.length);
  }
  return v as T;
}

/**
 * Files the upstream gives no upload time for get the time this proxy first saw them listed:
 * carried over from the page cached before (so a refresh keeps it), now for a new file.
 */
export function markFirstSeen(page: UpstreamPage, prevModel: Uint8Array | null, now = new Date().toISOString()): UpstreamPage {
  let seen = new Map<string, string>();
  if (prevModel) {
    try {
      const prev = JSON.parse(Buffer.from(prevModel).toString()) as UpstreamPage;
      seen = new Map((prev.files ?? []).filter((f) => typeof f.firstSeen === 'string').map((f) => [f.filename, f.firstSeen!]));
    } catch {
      // a model of another shape: every file is new to it
    }
  }
  return { ...page, files: page.files.map((f) => (f.uploadTime ? f : { ...f, firstSeen: seen.get(f.filename) ?? now })) };
}

/** A project's page as the upstream has it (cached for metadataTtl, stale when it is down). */
export async function upstreamProjectPage(ctx: RepoContext, project: string): Promise<ProxyPage> {
  const r = await cachedUpstream(ctx, `simple/${project}/`, `${encodeURIComponent(project)}/`, (text, res, prev) => {
    const kind = pageKind(res.headers.get('content-type'), text);
    const page = kind === 'json' ? parseProjectJson(text, res.url) : parseProjectHtml(text, res.url, project);
    if (normalizeName(page.name) !== project && kind === 'json') throw invalidPackage(`upstream answered for ${page.name}, not ${project}`);
    return markFirstSeen({ ...page, name: project }, prev);
  });
  return { page: r.entry ? parseOnce<UpstreamPage>(ctx, r.entry) : null, stale: r.stale, state: r.entry ? String(r.entry.fetchedAt) : 'none', freshUntil: r.freshUntil };
}

export async function upstreamRoot(ctx: RepoContext): Promise<{ names: string[]; stale: boolean; state: string; freshUntil: number }> {
  const r = await cachedUpstream(ctx, 'simple/', '', (text, res) => parseRoot(text, pageKind(res.headers.get('content-type'), text) === 'json'));
  return { names: r.entry ? parseOnce<string[]>(ctx, r.entry) : [], stale: r.stale, state: r.entry ? String(r.entry.fetchedAt) : 'none', freshUntil: r.freshUntil };
}

/**
 * PyPI's JSON API of the upstream (`<index root>/pypi/<project>/json`), with file URLs pointing
 * here, without the files a cooldown (this proxy's or an `outer` group's) hides.
 */
export async function upstreamJsonApi(ctx: RepoContext, project: string, outer: readonly Cooldown[] = []): Promise<{ doc: unknown | null; stale: boolean }> {
  const base = new URL(proxyOptionsOf(ctx.repo.options).upstream);
  const apiUrl = new URL(base.pathname.endsWith('/simple/') ? '../pypi/' : 'pypi/', base);
  const r = await cachedUpstream(ctx, `pypi/${project}/json`, new URL(`${encodeURIComponent(project)}/json`, apiUrl).toString(), (text) => {
    const doc = JSON.parse(text) as { info?: unknown; urls?: unknown };
    if (!doc || typeof doc !== 'object' || !doc.info) throw invalidPackage('upstream JSON API answered something else');
    return doc;
  });
  if (!r.entry) return { doc: null, stale: r.stale };
  const doc = JSON.parse(Buffer.from(r.entry.body!).toString()) as { urls?: { filename?: string; url?: string }[]; releases?: Record<string, { filename?: string; url?: string }[]> };
  const rewrite = (f: { filename?: string; url?: string }) => {
    if (typeof f.filename === 'string') f.url = fileUrlFromPage(project, f.filename);
  };
  doc.urls?.forEach(rewrite);
  for (const files of Object.values(doc.releases ?? {})) files.forEach(rewrite);
  const cooldown = projectCooldown(ctx.repo, outer, project);
  if (cooldown) {
    // Files the document gives no time for take the simple page's (upload or first-seen time).
    const page = (await upstreamProjectPage(ctx, project).catch(() => null))?.page;
    const times = new Map((page?.files ?? []).flatMap((f) => {
      const t = f.uploadTime ?? f.firstSeen;
      return t ? [[f.filename, t] as [string, string]] : [];
    }));
    coolJsonApi(doc, cooldown, times);
  }
  return { doc, stale: r.stale };
}

function versionOf(filename: string): string {
  try {
    const d = parseDistFilename(filename);
    return normalizeVersion(d.version) ?? d.version;
  } catch {
    return 'unknown';
  }
}

function planCachedFile(project: string, f: UpstreamFile, staged: StagedBlob, metadataFile: boolean): IngestPlan {
  const path = distPath(project, f.filename);
  let meta: Record<string, unknown>;
  if (metadataFile) {
    meta = { kind: 'core-metadata', of: f.filename, upstreamUrl: `${f.url}.metadata` };
  } else {
    let packagetype = 'unknown';
    let pythonVersion = '';
    try {
      const d = parseDistFilename(f.filename);
      packagetype = d.packagetype;
      pythonVersion = d.pyversion;
    } catch {
      // an odd upstream file (an .egg, an .exe): served all the same
    }
    meta = {
      kind: 'dist', packagetype, pythonVersion, requiresPython: f.requiresPython, md5: staged.md5 || null,
      coreMetadataSha256: f.coreMetadata?.sha256 ?? null, yanked: f.yanked, yankedReason: f.yankedReason, upstreamUrl: f.url,
    };
  }
  return {
    package: { name: project, displayName: project, version: versionOf(f.filename), versionMeta: {} },
    files: [{ path: metadataFile ? metadataPath(path) : path, filename: metadataFile ? `${f.filename}.metadata` : f.filename, blob: staged, meta }],
    scopes: [],
  };
}

/**
 * A file of a proxy repository: from the store when cached, otherwise fetched from the
 * upstream (once, whoever asks at the same time) and verified. `name` may end in `.metadata`.
 * A file younger than the cooldown (this proxy's or an `outer` group's) is not found.
 */
export async function proxiedFile(ctx: RepoContext, project: string, name: string, outer: readonly Cooldown[] = []): Promise<ContentResult> {
  const path = `packages/${project}/${name}`;
  // The page first: a project the upstream has quarantined since is not served, cached or not
  // (an installer reads the page just before, so it is usually fresh). A cached file is still
  // served when the page cannot be had at all (upstream down and nothing cached).
  const cached = await ctx.store.getFileByPath(ctx.repo.id, path);
  const page = await upstreamProjectPage(ctx, project).then((p) => p.page, (err: unknown) => {
    if (cached && err instanceof UpstreamUnavailable) return null;
    throw err;
  });
  if (page?.status && !offersFiles(page.status)) throw refuseDownload(project, page.status, ` at ${ctx.repo.name}'s upstream`);
  const isMetadata = name.endsWith('.metadata');
  const filename = isMetadata ? name.slice(0, -'.metadata'.length) : name;
  const f = page?.files.find((x) => x.filename === filename);
  const cooldown = projectCooldown(ctx.repo, outer, project);
  // A client with a page from before the cooldown (or a guessed URL) gets no young file either.
  // Without the page, a cached file's age is the time it was cached (never older than its listing).
  if (cooldown && (f || cached) && tooYoung(cooldown, f ? (f.uploadTime ?? f.firstSeen) : toIsoUtc(cached!.createdAt))) {
    throw tooYoungError(name, cooldown);
  }
  if (cached) return { kind: 'stored', file: cached };
  const opts = proxyOptionsOf(ctx.repo.options);
  if (!f || (isMetadata && !f.coreMetadata)) throw notFound(`${ctx.repo.name} has no ${name}`);
  if (opts.offline) throw notFound(`${name} is not cached and ${ctx.repo.name} is offline`);
  const expected = isMetadata ? f.coreMetadata!.sha256 : f.sha256;
  return ctx.services.content.get({
    repo: ctx.repo,
    path,
    fetch: () => ctx.services.upstream.download(ctx.repo, opts, isMetadata ? `${f.url}.metadata` : f.url),
    expectedSha256: expected,
    checkHead: isMetadata ? undefined : (head, res) => looksLike(head, filename, res.headers.get('content-type')),
    plan: (staged) => planCachedFile(project, f, staged, isMetadata),
    existing: () => ctx.store.getFileByPath(ctx.repo.id, path),
  });
}

/** A strong ETag for rendered proxy and group pages. */
export function etagOf(body: Uint8Array): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}
