// Building one suite's `dists/<suite>/` from the database. The index files (Packages.gz and
// .xz, the per-architecture Release, Contents) are stored content-addressed under their
// by-hash SHA256 key, in scopes of their own, BEFORE the publisher swaps in the new Release,
// InRelease and Release.gpg: a client that read any published Release finds every file it
// names. Earlier generations stay fetchable by hash for a grace period (the suite's state
// document lists them), so apt never meets a 404 mid-update. The uncompressed Packages is
// listed in Release, as in Debian's archive, and served by decompressing the stored .gz.
import { createHash } from 'node:crypto';
import type { IndexDocument, RepoContext } from '../../core/format-plugin.ts';
import { clearsign, detachSign } from '../../core/signing.ts';
import { compressBuffer } from '../../lib/compression.ts';
import { ChunkMemory, encodeStream, type EncodedIndex, type LazyChunk } from './chunked-compress.ts';
import { repoDebs, stanzaHash, type DebEntry } from './file-cache.ts';
import { buildContents, type ContentsEntry } from './contents.ts';
import { aptOptions, type AptOptions } from './options.ts';
import { contentKey, contentScope, contentScopePrefix, stateKey, SUITE_SCOPE_PREFIX, suiteScope } from './paths.ts';
import { buildArchRelease, buildRelease, type ReleaseFile } from './release.ts';
import { compareDebVersions } from './version.ts';

/** One index file of a generation, by its path below `dists/<suite>/`. */
export interface StateFile {
  size: number;
  md5: string;
  sha256: string;
  sha512: string;
  /** The index key holding the bytes (or, with `gunzip`, the .gz to decompress). */
  content: string;
  gunzip?: boolean;
  contentType: string;
}

export interface SuiteState {
  suite: string;
  /** Fixed at the first publish: apt refuses a repository whose Codename changed. */
  codename: string;
  /** Newest first; [0] is what the current Release lists. */
  generations: { at: string; files: Record<string, StateFile> }[];
}

/** Most generations a suite keeps, however young (bounds the storage a burst of uploads takes). */
const MAX_GENERATIONS = 20;
/** Average stanzas per compressed chunk (a power of two, at most 1024: DebEntry.sha32). */
const CHUNK_STANZAS = 64;

type Entry = DebEntry;

const digest = (alg: string, data: Uint8Array) => createHash(alg).update(data).digest('hex');
const etagOf = (sha256hex: string) => `"${Buffer.from(sha256hex, 'hex').toString('base64url').slice(0, 27)}"`;

function stateFile(e: EncodedIndex, content: string, contentType: string): StateFile {
  return { size: e.size, md5: e.md5, sha256: e.sha256, sha512: e.sha512, content, contentType };
}

function describe(data: Uint8Array, content: string, contentType: string): StateFile {
  return { size: data.length, md5: digest('md5', data), sha256: digest('sha256', data), sha512: digest('sha512', data), content, contentType };
}

export async function readState(ctx: RepoContext, suite: string): Promise<SuiteState | undefined> {
  const row = await ctx.services.getIndex(ctx.repo, stateKey(suite));
  return row ? parseState(row.body) : undefined;
}

export function parseState(body: Uint8Array): SuiteState {
  return JSON.parse(Buffer.from(body).toString('utf8')) as SuiteState;
}

/** Every suite this repository has: published ones and configured ones. */
export async function knownSuites(ctx: RepoContext): Promise<string[]> {
  const published = (await ctx.store.listIndexScopes(ctx.repo.id, SUITE_SCOPE_PREFIX)).map((s) => s.slice(SUITE_SCOPE_PREFIX.length));
  return [...new Set([...published, ...Object.keys(aptOptions(ctx.repo.options).suites)])].sort();
}

export const allSuiteScopes = async (ctx: RepoContext) => (await knownSuites(ctx)).map(suiteScope);

async function listEntries(ctx: RepoContext, suite: string): Promise<Entry[]> {
  return (await repoDebs(ctx)).filter((e) => e.suites.includes(suite));
}

/** Packages order: name, then dpkg version order, then pool path (dpkg-scanpackages and apt-ftparchive agree). */
function byPackageOrder(a: Entry, b: Entry): number {
  return (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || compareDebVersions(a.version, b.version) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/** A chunk's key: the stanzas it lists, each by its path and the hash of its text. */
function chunkKey(stanzas: readonly { path: string; stanzaHash: string }[]): string {
  const h = createHash('sha1');
  for (const e of stanzas) h.update(`${e.path}\0${e.stanzaHash}\n`);
  return h.digest('base64url');
}

const BLANK_LINE = Buffer.from('\n\n');
const FILENAME = Buffer.from('\nFilename: ');

/** The key of a chunk's text as encodeStream wrote it (stanzas, each followed by a blank line). */
function keyOfText(text: Buffer): string {
  const stanzas: { path: string; stanzaHash: string }[] = [];
  let at = 0;
  for (let end = text.indexOf(BLANK_LINE, at); end >= 0; end = text.indexOf(BLANK_LINE, at)) {
    // The stanza with its last newline, without the blank line after it.
    const stanza = text.subarray(at, end + 1);
    const f = stanza.indexOf(FILENAME);
    const path = f < 0 ? '' : stanza.subarray(f + FILENAME.length, stanza.indexOf(10, f + FILENAME.length)).toString('utf8');
    stanzas.push({ path, stanzaHash: stanzaHash(stanza) });
    at = end + 2;
  }
  return chunkKey(stanzas);
}

/** Cut after stanzas whose file hash says so: boundaries depend on content, not position. */
function chunksOf(entries: readonly Entry[]): (LazyChunk & { entries: readonly Entry[] })[] {
  const chunks: (LazyChunk & { entries: readonly Entry[] })[] = [];
  let start = 0;
  const cut = (end: number) => {
    const slice = entries.slice(start, end);
    chunks.push({ key: chunkKey(slice), entries: slice });
    start = end;
  };
  entries.forEach((e, i) => {
    if (e.sha32 % CHUNK_STANZAS === 0) cut(i + 1);
  });
  if (start < entries.length) cut(entries.length);
  return chunks;
}

/** A .deb changed between the listing and the read of its stanza: the build starts again. */
class StaleListing extends Error {}

/** The text of chunks, from their stanzas in the database (read a few hundred at a time). */
async function chunkTexts(ctx: RepoContext, chunks: readonly { entries: readonly Entry[] }[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < chunks.length;) {
    // Whole chunks, about 500 stanzas a read.
    const group: (typeof chunks)[number][] = [];
    let n = 0;
    while (i < chunks.length && (group.length === 0 || n + chunks[i].entries.length <= 500)) {
      n += chunks[i].entries.length;
      group.push(chunks[i++]);
    }
    const rows = await ctx.store.getFilesByPaths(ctx.repo.id, group.flatMap((c) => c.entries.map((e) => e.path)));
    const stanzas = new Map(rows.map((r) => [r.path, r.meta.kind === 'deb' ? String(r.meta.stanza) : undefined]));
    for (const c of group) {
      out.push(c.entries.map((e) => {
        const stanza = stanzas.get(e.path);
        if (stanza === undefined || stanzaHash(stanza) !== e.stanzaHash) throw new StaleListing(e.path);
        return `${stanza}\n`;
      }).join(''));
    }
  }
  return out;
}

function releaseFile(path: string, f: StateFile): ReleaseFile {
  return { path, size: f.size, md5: f.md5, sha256: f.sha256, sha512: f.sha512 };
}

export async function buildSuite(ctx: RepoContext, suite: string): Promise<IndexDocument[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await buildSuiteOnce(ctx, suite);
    } catch (err) {
      // Listed entries are current as of the change feed; one changed meanwhile is read again.
      if (!(err instanceof StaleListing) || attempt >= 5) throw err;
    }
  }
}

async function buildSuiteOnce(ctx: RepoContext, suite: string): Promise<IndexDocument[]> {
  const { repo, store } = ctx;
  const opts: AptOptions = aptOptions(repo.options);
  const settings = opts.suites[suite] ?? {};
  const previous = await readState(ctx, suite);
  const entries = await listEntries(ctx, suite);
  if (entries.length === 0 && !opts.suites[suite] && !previous) return [];

  const components = [...new Set([...entries.map((e) => e.component), ...(settings.components ?? [])])].sort();
  if (components.length === 0) components.push(opts.defaultComponent);
  const archs = [...new Set([...entries.map((e) => e.arch).filter((a) => a !== 'all'), ...opts.architectures, ...(settings.architectures ?? [])])].sort();
  if (archs.length === 0) archs.push('amd64');
  entries.sort(byPackageOrder);

  const files: Record<string, StateFile> = {};
  const blobs = new Map<string, { data: () => Uint8Array; contentType: string }>();
  const add = (rel: string, data: Uint8Array, contentType: string) => {
    const f = describe(data, '', contentType);
    f.content = contentKey(suite, rel, f.sha256);
    files[rel] = f;
    blobs.set(f.content, { data: () => data, contentType });
    return f;
  };
  const addEncoded = (rel: string, e: EncodedIndex, contentType: string) => {
    const f = stateFile(e, contentKey(suite, rel, e.sha256), contentType);
    files[rel] = f;
    if (!blobs.has(f.content)) blobs.set(f.content, { data: () => Buffer.concat(e.parts), contentType });
    return f;
  };
  const memory = await ctx.state.get('apt:chunks', () => new ChunkMemory());
  // File lists are read only for a repository that publishes Contents.
  const contentsOf = new Map<string, { section: string | null; files: string[] }>();
  if (opts.contents) {
    for (const r of await store.listFilesByPrefix(repo.id, '')) {
      if (r.meta.kind === 'deb') contentsOf.set(r.path, { section: (r.meta.section as string | null) ?? null, files: (r.meta.contents as string[] | undefined) ?? [] });
    }
  }
  const origin = settings.origin ?? opts.origin ?? repo.name;
  const label = settings.label ?? opts.label ?? repo.name;
  for (const component of components) {
    const inComponent = entries.filter((e) => e.component === component);
    for (const arch of archs) {
      // Architecture: all packages are listed in every architecture's Packages.
      const listed = inComponent.filter((e) => e.arch === arch || e.arch === 'all');
      const chunks = chunksOf(listed);
      const dir = `${component}/binary-${arch}`;
      const stream = `${suite}/${dir}`;
      const published = previous?.generations[0]?.files;
      if (!memory.streams.has(stream) && published?.[`${dir}/Packages.gz`] && published[`${dir}/Packages.xz`]) {
        // After a start: the chunks of the published files are taken as built.
        const [gzRow, xzRow] = await Promise.all([
          ctx.services.getIndex(repo, published[`${dir}/Packages.gz`].content),
          ctx.services.getIndex(repo, published[`${dir}/Packages.xz`].content),
        ]);
        if (gzRow && xzRow) memory.seed(stream, gzRow.body, xzRow.body, keyOfText);
      }
      const { plain, gzip: gz, xz } = await encodeStream(memory, stream, chunks, (indexes) => chunkTexts(ctx, indexes.map((i) => chunks[i])));
      const gzFile = addEncoded(`${dir}/Packages.gz`, gz, 'application/gzip');
      files[`${dir}/Packages`] = { ...stateFile(plain, gzFile.content, 'text/plain; charset=utf-8'), gunzip: true };
      addEncoded(`${dir}/Packages.xz`, xz, 'application/x-xz');
      add(`${dir}/Release`, Buffer.from(buildArchRelease({ archive: suite, origin, label, acquireByHash: true, component, architecture: arch })), 'text/plain; charset=utf-8');
      if (opts.contents) {
        const contents: ContentsEntry[] = listed.map((e) => {
          const c = contentsOf.get(e.path);
          return { name: e.name, section: c?.section ?? undefined, files: c?.files ?? [] };
        });
        add(`${component}/Contents-${arch}.gz`, await compressBuffer('gzip', Buffer.from(buildContents(contents))), 'application/gzip');
      }
    }
  }

  const now = new Date();
  const codename = previous?.codename ?? settings.codename ?? suite;
  if (settings.codename && settings.codename !== codename) {
    ctx.log.warn({ repo: repo.name, suite, published: codename, configured: settings.codename }, 'the Codename of a published suite never changes; the configured one is ignored');
  }
  const kept = (previous?.generations ?? [])
    .filter((g, i) => i < opts.byHashGenerations || now.getTime() - Date.parse(g.at) < opts.byHashGraceSeconds * 1000)
    .slice(0, MAX_GENERATIONS - 1);
  const state: SuiteState = { suite, codename, generations: [{ at: now.toISOString(), files }, ...kept] };

  // Content first, in one transaction; the Release that names it is swapped in after.
  const referenced = new Set(state.generations.flatMap((g) => Object.values(g.files).map((f) => contentScope(f.content))));
  await store.transaction(async () => {
    const existing = new Set(await store.listIndexScopes(repo.id, contentScopePrefix(suite)));
    for (const [key, b] of blobs) {
      if (existing.has(contentScope(key))) continue;
      await store.replaceScope(repo.id, contentScope(key), [{ key, contentType: b.contentType, body: b.data(), gzip: null, etag: etagOf(key.slice(key.lastIndexOf('/') + 1)) }]);
    }
    // Generations past their grace period: nothing published names them any more.
    for (const scope of existing) if (!referenced.has(scope)) await store.replaceScope(repo.id, scope, []);
  });

  const release = buildRelease({
    origin, label, suite, codename, date: now, acquireByHash: true,
    architectures: archs, components, description: settings.description,
    files: Object.entries(files).map(([rel, f]) => releaseFile(rel, f)),
  });
  const keys = await ctx.services.keys.signingKeys(repo);
  const [inRelease, releaseGpg] = await Promise.all([clearsign(release, keys), detachSign(Buffer.from(release), keys, { armor: true })]);
  return [
    { key: `dists/${suite}/Release`, contentType: 'text/plain; charset=utf-8', body: release },
    { key: `dists/${suite}/InRelease`, contentType: 'text/plain; charset=utf-8', body: inRelease },
    { key: `dists/${suite}/Release.gpg`, contentType: 'application/pgp-signature', body: releaseGpg },
    { key: stateKey(suite), contentType: 'application/json', body: JSON.stringify(state) },
  ];
}

/** Unpublishing a suite also drops its stored index files. */
export async function dropSuiteContent(ctx: RepoContext, suite: string): Promise<void> {
  await ctx.store.transaction(async () => {
    for (const scope of await ctx.store.listIndexScopes(ctx.repo.id, contentScopePrefix(suite))) await ctx.store.replaceScope(ctx.repo.id, scope, []);
  });
}
