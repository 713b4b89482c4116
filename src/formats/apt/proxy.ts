// APT proxy repositories: a caching mirror of one upstream archive (a Debian mirror, another
// Wharf). `dists/` files by name (InRelease, Release, Packages...) pass through the metadata
// cache (metadataTtl, conditional requests, stale copies when the upstream is down); the
// upstream signed them, so clients keep the upstream's key. `by-hash/` files and the pool are
// immutable: content, fetched once, verified and kept for good. A pool file is checked against
// the SHA256 that a cached Packages index lists for it; one no cached index lists is only
// checked to be an ar archive (.deb/.udeb) before it is stored.
import { createReadStream } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { notFound, WharfError } from '../../core/errors.ts';
import type { IngestPlan, RepoContext, RouteContext } from '../../core/format-plugin.ts';
import { assertLooksLike } from '../../core/proxy/looks-like.ts';
import { conditionalFetch, type MetadataResult } from '../../core/proxy/metadata-cache.ts';
import { proxyOptionsOf, type ProxyOptions } from '../../core/proxy/options.ts';
import { UpstreamUnavailable } from '../../core/proxy/upstream.ts';
import { ProxyCacheStore } from '../../db/proxy-cache-store.ts';
import { minAgeBaselineOf } from '../../core/cooldown.ts';
import { FirstSeenStore } from '../../db/first-seen-store.ts';
import { collect, createDecompressor, detectCompression } from '../../lib/compression.ts';
import { markStale, sendProxied } from '../../server/http/send.ts';
import type { StagedBlob } from '../../storage/blob-store.ts';
import { fileDigest } from '../../storage/staging.ts';
import type { RepoChange } from '../../core/change-feed.ts';
import { assertDistsFileLooksRight, assertPackagesText, isBinaryByHashPath, isPackagesPath, parseByHashPath, poolHashes } from './proxy-index.ts';

/** Decompressed indexes larger than this are not read for hashes (Debian's largest is ~100 MB). */
const MAX_INDEX_BYTES = 1024 * 1024 * 1024;

/** Path segments of a request below the repository, refused when they could leave the upstream base. */
function safeSegments(rest: string): string[] {
  const segments = rest.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) throw notFound();
  return segments;
}
const encodePath = (segments: string[]) => segments.map(encodeURIComponent).join('/');
const upstreamUrl = (opts: ProxyOptions, rel: string) => new URL(rel, opts.upstream).toString();

/** A Packages file's text from its bytes, whichever compression (bounded: an index is at most 1 GiB). */
export async function inflate(body: Uint8Array): Promise<Buffer> {
  const kind = detectCompression(body.subarray(0, 8));
  if (kind === 'none') return Buffer.from(body);
  const d = createDecompressor(kind);
  const out = collect(d, MAX_INDEX_BYTES);
  d.end(body);
  return out;
}

// --- pool path → SHA256, from the Packages indexes this proxy has cached

/**
 * What the cached Packages indexes of one proxy say (held by the core per repository). The
 * map only grows: a pool file keeps its name for good upstream. Indexes cached since the load
 * (by this process, or by another one on the same database) arrive through the change feed
 * and are read when a pool file is not found in the map.
 */
class RepoHashes {
  readonly map = new Map<string, string>();
  private loaded = false;
  private loading: Promise<void> | null = null;
  /** Cached indexes (proxy cache keys, file paths) changed since they were last read. */
  readonly unread = new Set<string>();
  /** The read of noted indexes under way: a pool request that misses waits for it, since it may list the file. */
  private reading: Promise<void> | null = null;

  applyChanges(changes: RepoChange[]): void {
    for (const c of changes) {
      if ((c.kind === 'proxy' && isPackagesPath(c.subject)) || (c.kind === 'file' && c.subject.startsWith('dists/'))) this.unread.add(`${c.kind}:${c.subject}`);
    }
  }

  /**
   * Every cached Packages file, read once (concurrent callers share the read; one that failed
   * is tried again by the next caller). An index cached while it runs is noted by the feed
   * (applyChanges) and read at the next miss.
   */
  async ensureLoaded(ctx: RepoContext): Promise<void> {
    if (this.loaded) return;
    this.loading ??= (async () => {
      try {
        for (const key of await new ProxyCacheStore(ctx.store.sql).keys(ctx.repo.id, 'dists/')) if (isPackagesPath(key)) await addCachedIndex(ctx, this.map, key);
        for (const f of await ctx.store.listFilesByPrefix(ctx.repo.id, 'dists/')) await addStoredIndex(ctx, this.map, f.path);
        this.loaded = true;
      } finally {
        this.loading = null;
      }
    })();
    await this.loading;
  }

  /** Read the indexes noted since the last read (one read at a time; the map only grows). */
  async readUnread(ctx: RepoContext): Promise<void> {
    while (this.reading) await this.reading;
    if (this.unread.size === 0) return;
    const unread = [...this.unread];
    this.unread.clear();
    const run = (async () => {
      try {
        for (const u of unread) {
          if (u.startsWith('proxy:')) await addCachedIndex(ctx, this.map, u.slice('proxy:'.length));
          else await addStoredIndex(ctx, this.map, u.slice('file:'.length));
        }
      } catch (err) {
        // Not read (the database failed): noted again for the next miss.
        for (const u of unread) this.unread.add(u);
        throw err;
      }
    })();
    const reading = run.finally(() => {
      if (this.reading === reading) this.reading = null;
    });
    this.reading = reading.catch(() => {});
    await reading;
  }
}

async function addIndex(map: Map<string, string>, body: Uint8Array): Promise<number> {
  const entries = poolHashes((await inflate(body)).toString('utf8'));
  for (const [path, sha256] of entries) map.set(path, sha256);
  return entries.length;
}

async function addCachedIndex(ctx: RepoContext, map: Map<string, string>, key: string): Promise<void> {
  const e = await new ProxyCacheStore(ctx.store.sql).get(ctx.repo.id, key);
  if (e?.status === 200 && e.body) await addIndex(map, e.body).catch((err) => ctx.log.warn({ repo: ctx.repo.name, key, err: (err as Error).message }, 'unreadable cached index'));
}

async function addStoredIndex(ctx: RepoContext, map: Map<string, string>, path: string): Promise<void> {
  const f = await ctx.store.getFileByPath(ctx.repo.id, path);
  if (f?.meta.index !== 'packages') return;
  await addIndex(map, await collect(ctx.blobs.open(f.sha256), MAX_INDEX_BYTES))
    .catch((err) => ctx.log.warn({ repo: ctx.repo.name, path: f.path, err: (err as Error).message }, 'unreadable cached index'));
}

/** Every cached Packages file, read once; later fetches add to the map as they come. */
async function repoHashes(ctx: RepoContext): Promise<RepoHashes> {
  const h = await ctx.state.get('apt:proxy-hashes', () => new RepoHashes());
  await h.ensureLoaded(ctx);
  return h;
}

/** The SHA256 a cached Packages index promises for a pool file, if any lists it. */
export async function expectedPoolHash(ctx: RepoContext, path: string): Promise<string | undefined> {
  const h = await repoHashes(ctx);
  if (!h.map.has(path)) await h.readUnread(ctx);
  return h.map.get(path);
}

/**
 * Note the pool files an upstream index (`indexPath`) lists as seen now, where they were not
 * seen before (at the epoch when this is the proxy's first read of that index and its
 * minAgeBaseline is "initial"): their age for a cooldown (minAge), whether one is set yet or not. A failure is logged: the
 * next read of the index notes them again.
 */
export async function noteFirstSeen(ctx: RepoContext, indexPath: string, paths: Iterable<string>): Promise<void> {
  // One index: its binary-* directory, whichever compression or by-hash name it was read by.
  const scope = indexPath.replace(/\/(?:by-hash\/.*|Packages(?:\.[a-z0-9]+)?)$/, '');
  await new FirstSeenStore(ctx.store.sql).sighting(ctx.repo.id, scope, paths, minAgeBaselineOf(ctx.repo), new Date().toISOString())
    .catch((err) => ctx.log.warn({ repo: ctx.repo.name, err: (err as Error).message }, 'first-seen times not recorded'));
}

// --- dists/

/** A `dists/` file by name (`key` = its path): the upstream's bytes through the metadata cache. */
export async function proxyDistsEntry(ctx: RepoContext, key: string): Promise<MetadataResult> {
  const segments = key.split('/');
  const opts = proxyOptionsOf(ctx.repo.options);
  return ctx.services.metadata.get(ctx.repo, key, opts, async (prev) => {
    const out = await conditionalFetch(() => ctx.services.upstream.fetch(ctx.repo, opts, encodePath(segments), { etag: prev?.etag, lastModified: prev?.lastModified, maxBytes: opts.maxMetadataBytes }), key,
      (body, res) => assertDistsFileLooksRight(key, body, res.headers.get('content-type')));
    // A Packages file that does not parse is never cached; one that does feeds the pool hashes.
    if (out.status === 200 && isPackagesPath(key)) {
      const map = new Map<string, string>();
      try {
        const text = (await inflate(out.body)).toString('utf8');
        assertPackagesText(text, key);
        for (const [p, s] of poolHashes(text)) map.set(p, s);
      } catch (err) {
        throw new UpstreamUnavailable(`upstream sent an unreadable ${key}: ${(err as Error).message}`);
      }
      const h = await repoHashes(ctx);
      for (const [p, s] of map) h.map.set(p, s);
      await noteFirstSeen(ctx, key, map.keys());
    }
    return out;
  });
}

/** A `dists/` file by name: the upstream's bytes through the metadata cache. */
async function distsByName(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext, key: string) {
  const r = await proxyDistsEntry(ctx, key);
  if (!r.entry) throw notFound(`no ${key} upstream of ${ctx.repo.name}`);
  const entry = r.entry;
  markStale(reply, r.stale);
  reply.header('cache-control', 'max-age=0, must-revalidate');
  if (entry.etag) reply.header('etag', entry.etag);
  if (entry.lastModified) reply.header('last-modified', entry.lastModified);
  const inm = req.headers['if-none-match'];
  const ims = req.headers['if-modified-since'];
  if ((entry.etag && inm === entry.etag) || (!inm && entry.lastModified && ims && Date.parse(ims) >= Date.parse(entry.lastModified))) {
    return reply.code(304).send();
  }
  reply.type(entry.contentType && !/text\/html/i.test(entry.contentType) ? entry.contentType : 'application/octet-stream');
  if (req.method === 'HEAD') return reply.header('content-length', String(entry.body!.length)).send();
  return reply.send(Buffer.from(entry.body!.buffer, entry.body!.byteOffset, entry.body!.byteLength));
}

/** `dists/.../by-hash/<algorithm>/<hex>`: immutable content named by its own digest. */
async function distsByHash(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext, path: string, segments: string[], algorithm: string, hex: string) {
  const opts = proxyOptionsOf(ctx.repo.options);
  const filename = `${algorithm}-${hex}`;
  const stored = await ctx.store.getFileByPath(ctx.repo.id, path);
  if (stored) return sendProxied(req, reply, ctx.repo, ctx.blobs, { kind: 'stored', file: stored }, filename);
  if (opts.offline) throw notFound(`${path} is not cached and ${ctx.repo.name} is offline`);
  let packagesEntries: Map<string, string> | null = null;
  const result = await ctx.services.content.get({
    repo: ctx.repo,
    path,
    fetch: () => ctx.services.upstream.download(ctx.repo, opts, encodePath(segments)),
    expectedSha256: algorithm === 'SHA256' ? hex : null,
    validate: async (staged: StagedBlob, res) => {
      if (/text\/html/i.test(res.headers.get('content-type') ?? '')) throw new UpstreamUnavailable(`upstream sent an HTML page for ${path}; not stored`);
      const got = algorithm === 'SHA256' ? staged.sha256 : await fileDigest(staged.path, ({ MD5Sum: 'md5', SHA1: 'sha1' } as Record<string, string>)[algorithm] ?? 'sha512');
      if (got !== hex) throw new WharfError('UPSTREAM_FAILED', `upstream sent ${path} with ${algorithm} ${got}; not stored`);
      if (isBinaryByHashPath(path)) {
        // Packages (or the directory's small Release): remember the pool hashes it lists.
        const map = new Map<string, string>();
        const n = await addIndex(map, await collect(createReadStream(staged.path), MAX_INDEX_BYTES)).catch(() => 0);
        if (n > 0) packagesEntries = map;
      }
    },
    plan: (staged): IngestPlan => ({
      files: [{ path, filename, blob: staged, meta: { upstreamUrl: upstreamUrl(opts, encodePath(segments)), ...(packagesEntries ? { index: 'packages' } : {}) } }],
      scopes: [],
    }),
    existing: () => ctx.store.getFileByPath(ctx.repo.id, path),
    negativeTtlMs: opts.negativeTtl * 1000,
  });
  if (result.kind === 'streaming') {
    // Pool hashes count only once the index is verified and stored. Not waited for: the
    // client is being answered; the stored index is read at a miss anyway (applyChanges).
    void result.done.then(async () => {
      if (!packagesEntries) return;
      const h = await repoHashes(ctx);
      for (const [p, s] of packagesEntries as Map<string, string>) h.map.set(p, s);
      await noteFirstSeen(ctx, path, (packagesEntries as Map<string, string>).keys());
    }).catch(() => {});
  }
  return sendProxied(req, reply, ctx.repo, ctx.blobs, result, filename);
}

export async function proxyDists(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  const rest = ctx.params['*'] ?? '';
  const segments = safeSegments(rest);
  if (segments.length < 2) throw notFound();
  const path = `dists/${rest}`;
  const byHash = parseByHashPath(path);
  if (byHash) return distsByHash(req, reply, ctx, path, ['dists', ...segments], byHash.algorithm, byHash.hex);
  if (segments.includes('by-hash')) throw notFound(`not a by-hash path: ${path}`);
  return distsByName(req, reply, ctx, path);
}

// --- pool/

/** Package rows for `wharf ls`, from a pool name `<name>_<version>_<arch>.deb` (the epoch is not in it). */
function packageOf(filename: string): IngestPlan['package'] {
  const m = /^([a-z0-9][a-z0-9+.-]*)_([^_]+)_([^_]+)\.u?deb$/.exec(filename);
  return m ? { name: m[1], displayName: m[1], version: m[2], versionMeta: {} } : undefined;
}

export async function proxyPool(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  const rest = ctx.params['*'] ?? '';
  const segments = ['pool', ...safeSegments(rest)];
  const path = segments.join('/');
  const filename = segments[segments.length - 1];
  const stored = await ctx.store.getFileByPath(ctx.repo.id, path);
  if (stored) return sendProxied(req, reply, ctx.repo, ctx.blobs, { kind: 'stored', file: stored }, filename);
  const opts = proxyOptionsOf(ctx.repo.options);
  if (opts.offline) throw notFound(`${path} is not cached and ${ctx.repo.name} is offline`);
  const expected = await expectedPoolHash(ctx, path);
  const pkg = packageOf(filename);
  const result = await ctx.services.content.get({
    repo: ctx.repo,
    path,
    fetch: () => ctx.services.upstream.download(ctx.repo, opts, encodePath(segments)),
    expectedSha256: expected ?? null,
    validate: (staged, res) => assertLooksLike(staged, filename.replace(/\.udeb$/, '.deb'), res.headers.get('content-type')),
    plan: (staged) => ({
      ...(pkg ? { package: pkg } : {}),
      files: [{ path, filename, blob: staged, meta: { upstreamUrl: upstreamUrl(opts, encodePath(segments)), verified: expected ? 'sha256' : 'magic' } }],
      scopes: [],
    }),
    existing: () => ctx.store.getFileByPath(ctx.repo.id, path),
    negativeTtlMs: opts.negativeTtl * 1000,
  });
  return sendProxied(req, reply, ctx.repo, ctx.blobs, result, filename);
}

