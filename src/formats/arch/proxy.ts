// Arch proxy repositories: a caching mirror of one pacman repository. The upstream URL is
// the repository's base WITHOUT the architecture (`http://mirror/archlinux/core/os/`):
// `/<proxy>/<arch>/<file>` is fetched from `<upstream><arch>/<file>`.
// dbs (`.db`, `.files`) are cached for metadataTtl together with their `.sig` (one entry per
// pair, so pacman never gets a signature of another db generation) and served stale when the
// upstream fails; packages and their `.sig` are fetched once, checked against the
// `%SHA256SUM%` (and `%PGPSIG%`) of the cached db, and kept for good.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../../core/errors.ts';
import type { RepoContext, RouteContext } from '../../core/format-plugin.ts';
import type { IndexRow } from '../../core/model.ts';
import type { ContentResult } from '../../core/proxy/content-cache.ts';
import { assertLooksLike } from '../../core/proxy/looks-like.ts';
import type { FetchOutcome } from '../../core/proxy/metadata-cache.ts';
import { proxyOptionsOf, type ProxyOptions } from '../../core/proxy/options.ts';
import { UpstreamUnavailable } from '../../core/proxy/upstream.ts';
import { markStale, sendIndex, sendProxied } from '../../server/http/send.ts';
import type { StagedBlob } from '../../storage/blob-store.ts';
import type { CachedUpstreamEntry } from '../../db/proxy-cache-store.ts';
import { minAgeBaselineOf } from '../../core/cooldown.ts';
import { FirstSeenStore } from '../../db/first-seen-store.ts';
import { readRepoDb } from './db-archive.ts';
import { decodeDbPair, encodeDbPair, nextGeneration, type DbPair } from './db-pair.ts';
import { parseDbEntry } from './desc.ts';
import { archOfFilename, packagePath } from './paths.ts';

const PAIR_TYPE = 'application/x-wharf-arch-db-pair';
const pairKey = (arch: string, dbFile: string) => `db:${arch}/${dbFile}`;
const upstreamPath = (arch: string, file: string) => `${encodeURIComponent(arch)}/${encodeURIComponent(file)}`;

/**
 * Note package files an upstream db (`arch`, `dbFile`) lists as seen now, where they were not
 * seen before (at the epoch when this is the proxy's first read of that db and its
 * minAgeBaseline is "initial"). A failure is logged: the next read of the db notes them again.
 */
export async function noteFirstSeen(ctx: RepoContext, arch: string, dbFile: string, filenames: Iterable<string>): Promise<void> {
  // One db: its .db and .files (and their .tar.* names) list the same packages.
  const scope = `${arch}/${dbFile.replace(/\.(?:db|files)(?:\.tar(?:\.[a-z0-9]+)?)?$/, '')}`;
  await new FirstSeenStore(ctx.store.sql).sighting(ctx.repo.id, scope, filenames, minAgeBaselineOf(ctx.repo), new Date().toISOString())
    .catch((err) => ctx.log.warn({ repo: ctx.repo.name, err: (err as Error).message }, 'first-seen times not recorded'));
}

// ---- dbs ----------------------------------------------------------------------------------

/** A binary OpenPGP signature starts with a packet tag byte (high bit set); an error page does not. */
function assertSignature(bytes: Uint8Array, what: string, contentType: string | null): void {
  if (/text\/html/i.test(contentType ?? '') || bytes.length === 0 || (bytes[0] & 0x80) === 0) {
    throw new UpstreamUnavailable(`upstream sent something that is not an OpenPGP signature for ${what}; not stored`);
  }
}

/** Fetch a db and (when it changed) its signature in one step. */
async function fetchPair(ctx: RepoContext, opts: ProxyOptions, arch: string, dbFile: string, prev: CachedUpstreamEntry | undefined): Promise<FetchOutcome> {
  const res = await ctx.services.upstream.fetch(ctx.repo, opts, upstreamPath(arch, dbFile), { etag: prev?.etag, lastModified: prev?.lastModified, maxBytes: opts.maxMetadataBytes });
  if (res.status === 304 && prev) return { status: 304 };
  if (res.status === 404 || res.status === 410) return { status: 404 };
  if (!res.ok) throw new UpstreamUnavailable(`upstream answered ${res.status} for ${arch}/${dbFile}`);
  const db = new Uint8Array(await res.arrayBuffer());
  // Read before storing: an error page answered with 200 is never cached as a db.
  if (/text\/html/i.test(res.headers.get('content-type') ?? '')) throw new UpstreamUnavailable(`upstream sent an HTML page for ${arch}/${dbFile}; not stored`);
  let filenames: string[];
  try {
    if (db.length === 0) throw new Error('empty');
    filenames = [...(await readRepoDb(db)).values()].map(({ desc }) => parseDbEntry(desc).get('FILENAME')?.[0]).filter((f): f is string => !!f);
  } catch (err) {
    throw new UpstreamUnavailable(`upstream sent a broken ${arch}/${dbFile}: ${(err as Error).message}; not stored`);
  }
  const sigRes = await ctx.services.upstream.fetch(ctx.repo, opts, upstreamPath(arch, `${dbFile}.sig`), { maxBytes: opts.maxMetadataBytes });
  let sig: Uint8Array | null = null;
  if (sigRes.ok) {
    sig = new Uint8Array(await sigRes.arrayBuffer());
    assertSignature(sig, `${arch}/${dbFile}`, sigRes.headers.get('content-type'));
  } else if (sigRes.status !== 404 && sigRes.status !== 410) {
    // Keep serving the previous consistent pair rather than a db without its signature.
    throw new UpstreamUnavailable(`upstream answered ${sigRes.status} for ${arch}/${dbFile}.sig`);
  }
  // Their age for a cooldown (minAge), whether one is set yet or not.
  await noteFirstSeen(ctx, arch, dbFile, filenames);
  const prevPair = prev?.body ? decodeDbPair(prev.body) : undefined;
  const generation = nextGeneration(prevPair, db, sig, res.headers.get('last-modified'), Date.now());
  return { status: 200, body: encodeDbPair({ db, sig, generation }), contentType: PAIR_TYPE, etag: res.headers.get('etag'), lastModified: res.headers.get('last-modified') };
}

export interface CachedPair extends DbPair {
  dbEtag: string;
  sigEtag: string | null;
}

// Decoded pairs with their ETags, by entry generation (a memo the core holds): hashing a
// large db per request would cost more than serving it. Bounded in bytes too: a db of a large
// repository is several MB.
const DECODED = { maxEntries: 200, maxBytes: 128 * 1024 * 1024 };
function decodeOnce(ctx: RepoContext, entry: CachedUpstreamEntry): CachedPair {
  const decoded = ctx.state.memo<CachedPair>('arch:proxy-dbs', DECODED);
  const pair = decodeDbPair(entry.body!);
  const k = `${entry.key}\0${pair.generation}`;
  let hit = decoded.get(k);
  if (!hit) {
    const etag = (b: Uint8Array) => `"${createHash('sha256').update(b).digest('base64url').slice(0, 27)}"`;
    hit = { ...pair, dbEtag: etag(pair.db), sigEtag: pair.sig ? etag(pair.sig) : null };
    decoded.set(k, hit, pair.db.length + (pair.sig?.length ?? 0));
  }
  return hit;
}

// The db files asked for per architecture, remembered so that package requests know which
// cached dbs list their digests (also after a restart).
const knownKey = (ctx: RepoContext) => `arch:proxy:${ctx.repo.id}:${ctx.repo.createdAt}:dbs`;
async function knownDbs(ctx: RepoContext): Promise<string[]> {
  const raw = await ctx.store.getSetting(knownKey(ctx));
  return raw ? (JSON.parse(raw) as string[]) : [];
}
async function rememberDb(ctx: RepoContext, arch: string, dbFile: string): Promise<void> {
  const k = `${arch}/${dbFile}`;
  if ((await knownDbs(ctx)).includes(k)) return;
  // Read again and written in one transaction: dbs first asked for at once are all kept.
  await ctx.store.transaction(async () => {
    const list = await knownDbs(ctx);
    if (!list.includes(k)) await ctx.store.setSetting(knownKey(ctx), JSON.stringify([...list, k].sort()));
  });
}

/** The upstream's db `dbFile` of `arch` with its signature, through the metadata cache; null when it has none. */
export async function proxyDbPair(ctx: RepoContext, arch: string, dbFile: string): Promise<{ pair: CachedPair; stale: boolean } | null> {
  const opts = proxyOptionsOf(ctx.repo.options);
  const r = await ctx.services.metadata.get(ctx.repo, pairKey(arch, dbFile), opts, (prev) => fetchPair(ctx, opts, arch, dbFile, prev));
  if (!r.entry) return null;
  await rememberDb(ctx, arch, dbFile);
  return { pair: decodeOnce(ctx, r.entry), stale: r.stale };
}

/** GET `<arch>/<name>.db` (or `.files`, `.db.tar.gz`, and their `.sig`) on a proxy. */
export async function proxyDb(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext, arch: string, file: string): Promise<unknown> {
  const sigWanted = file.endsWith('.sig');
  const dbFile = sigWanted ? file.slice(0, -4) : file;
  const got = await proxyDbPair(ctx, arch, dbFile);
  if (!got) throw notFound(`upstream of ${ctx.repo.name} has no ${arch}/${dbFile}${proxyOptionsOf(ctx.repo.options).offline ? ' cached (offline)' : ''}`);
  const r = { stale: got.stale };
  const pair = got.pair;
  const body = sigWanted ? pair.sig : pair.db;
  if (!body) throw notFound(`upstream of ${ctx.repo.name} has no signature for ${arch}/${dbFile}`);
  markStale(reply, r.stale);
  const row: IndexRow = {
    repoId: ctx.repo.id, key: `${arch}/${file}`, scope: '', body, gzip: null,
    contentType: sigWanted ? 'application/pgp-signature' : 'application/octet-stream',
    etag: sigWanted ? pair.sigEtag! : pair.dbEtag,
    updatedAt: new Date(pair.generation).toISOString(),
  };
  return sendIndex(req, reply, ctx.repo, row);
}

// ---- packages -----------------------------------------------------------------------------

interface Listed {
  sha256: string | null;
  /** The binary signature `%PGPSIG%` carries, when it does. */
  pgpsig: Buffer | null;
}

// filename → digests, per cached db generation (a memo the core holds); made again when the db
// is refreshed. Estimated at the db's size: its entries hold about as much.
const LISTINGS = { maxEntries: 50, maxBytes: 128 * 1024 * 1024 };
async function listingOf(ctx: RepoContext, key: string, pair: DbPair): Promise<Map<string, Listed>> {
  const listings = ctx.state.memo<Map<string, Listed>>('arch:proxy-listings', LISTINGS);
  const k = `${key}\0${pair.generation}`;
  let map = listings.get(k);
  if (map) return map;
  map = new Map();
  for (const { desc } of (await readRepoDb(pair.db)).values()) {
    const fields = parseDbEntry(desc);
    const filename = fields.get('FILENAME')?.[0];
    if (!filename) continue;
    const pgpsig = fields.get('PGPSIG')?.[0];
    map.set(filename, { sha256: fields.get('SHA256SUM')?.[0]?.toLowerCase() ?? null, pgpsig: pgpsig ? Buffer.from(pgpsig, 'base64') : null });
  }
  listings.set(k, map, pair.db.length * 2);
  return map;
}

/**
 * What the cached dbs of `arch` say about `filename`. Reads only what is cached (pacman
 * fetched the db before asking for the package), never the upstream.
 */
export async function lookUp(ctx: RepoContext, arch: string, filename: string): Promise<Listed | null> {
  const opts = { ...proxyOptionsOf(ctx.repo.options), offline: true };
  const dbs = (await knownDbs(ctx)).filter((k) => k.startsWith(`${arch}/`)).map((k) => k.slice(arch.length + 1));
  // The small .db first: it has the same desc entries as the .files db.
  dbs.sort((a, b) => Number(/\.files/.test(a)) - Number(/\.files/.test(b)));
  for (const dbFile of dbs) {
    const key = pairKey(arch, dbFile);
    const r = await ctx.services.metadata.get(ctx.repo, key, opts, () => Promise.reject(new Error('offline lookup')));
    if (!r.entry?.body) continue;
    const hit = (await listingOf(ctx, key, decodeDbPair(r.entry.body))).get(filename);
    if (hit) return hit;
  }
  return null;
}

const sha256Of = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function assertSignatureFile(staged: StagedBlob, filename: string, contentType: string | null): Promise<void> {
  const fh = await open(staged.path, 'r');
  try {
    const head = Buffer.alloc(1);
    const { bytesRead } = await fh.read(head, 0, 1, 0);
    assertSignature(head.subarray(0, bytesRead), filename, contentType);
  } finally {
    await fh.close();
  }
}

/** A package or its `.sig` on a proxy: stored, or fetched now and verified. */
export async function proxyPackageFile(ctx: RepoContext, arch: string, name: string): Promise<ContentResult> {
  const path = packagePath(arch, name);
  const cached = await ctx.store.getFileByPath(ctx.repo.id, path);
  if (cached) return { kind: 'stored', file: cached };
  const opts = proxyOptionsOf(ctx.repo.options);
  if (opts.offline) throw notFound(`${arch}/${name} is not cached and ${ctx.repo.name} is offline`);
  const isSig = name.endsWith('.sig');
  const pkgName = isSig ? name.slice(0, -4) : name;
  const listed = await lookUp(ctx, arch, pkgName);
  // A package no cached db lists (or lists without a digest) is only checked to look like one.
  const expectedSha256 = isSig ? (listed?.pgpsig ? sha256Of(listed.pgpsig) : null) : listed?.sha256 ?? null;
  const target = upstreamPath(arch, name);
  return ctx.services.content.get({
    repo: ctx.repo,
    path,
    fetch: () => ctx.services.upstream.download(ctx.repo, opts, target),
    expectedSha256,
    validate: (staged, res) => (isSig ? assertSignatureFile(staged, name, res.headers.get('content-type')) : assertLooksLike(staged, name, res.headers.get('content-type'))),
    plan: (staged) => ({ files: [{ path, filename: name, blob: staged, meta: { upstreamUrl: new URL(target, opts.upstream).toString() } }], scopes: [] }),
    existing: () => ctx.store.getFileByPath(ctx.repo.id, path),
    negativeTtlMs: opts.negativeTtl * 1000,
  });
}

/** GET `<arch>/<package file>` (or its `.sig`) on a proxy. */
export async function proxyPackage(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext, arch: string, name: string): Promise<unknown> {
  const pkgName = name.endsWith('.sig') ? name.slice(0, -4) : name;
  const fileArch = archOfFilename(pkgName);
  if (!fileArch || (fileArch !== arch && fileArch !== 'any')) throw notFound(`no file ${name} for ${arch}`);
  const result = await proxyPackageFile(ctx, arch, name);
  return sendProxied(req, reply, ctx.repo, ctx.blobs, result, name);
}
