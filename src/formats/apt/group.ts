// APT group repositories: one suite served from every member that has it, merged
// (group-merge.ts), signed with the group's own key (InRelease, Release.gpg); pool files from
// the member whose stanza names them. A proxy with a cooldown (minAge) serves its upstream's
// suites the same way, as a group of itself: filtered, and signed with its own key. A merged suite is kept (a memo the core holds) under a
// key made of every member's state: a hosted member's changes reach it through the change
// feed (a holder of its state goes at any change), a proxy's through its cached Release.
import { createHash, randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../../core/errors.ts';
import type { RepoContext, RouteContext } from '../../core/format-plugin.ts';
import { groupAnswerRepo, groupOptionsOf } from '../../core/group.ts';
import { cooldownKey, everyMember, readableMembers, servesOwnIndex } from '../../core/merged-index.ts';
import type { IndexRow, Repository } from '../../core/model.ts';
import { clearsign, detachSign } from '../../core/signing.ts';
import { markStale, sendFile, sendIndex } from '../../server/http/send.ts';
import { groupSuiteFiles, mergeSuite, packagesOfRelease, releaseField, type MemberSuite } from './group-merge.ts';
import { isValidSuite, stateKey } from './paths.ts';
import { expectedPoolHash, inflate, noteFirstSeen, proxyDistsEntry, proxyPool } from './proxy.ts';
import { poolHashes } from './proxy-index.ts';
import { cooldownOf, cooldownsFor, strictest, tooYoung, tooYoungError, type Cooldown } from '../../core/cooldown.ts';
import { FirstSeenStore } from '../../db/first-seen-store.ts';
import { parseState } from './suite-build.ts';

const MERGED = { maxEntries: 64, maxBytes: 256 * 1024 * 1024 };
/** A merge is redone at least daily: its proxies' first-seen rows and index reads are noted again, so pruning (FirstSeenStore.prune) never takes rows of what it still lists. */
const REMERGE_MS = 86_400_000;

interface Built {
  key: string;
  inRelease: Buffer;
  release: Buffer;
  releaseGpg: Buffer;
  files: Map<string, Buffer>;
  owners: Map<string, string>;
  stale: boolean;
  at: string;
  /** When (ms) a young package comes of age: the suite is merged again from then on. */
  validUntil: number;
}

/** A token that changes whenever `repo` changes (a holder without applyChanges goes at any change). */
async function generation(ctx: RepoContext, repo: Repository): Promise<{ gen: string; names?: Promise<Set<string>> }> {
  return ctx.services.stateOf(repo).get('group:generation', () => ({ gen: randomUUID() } as { gen: string; names?: Promise<Set<string>> }));
}

/** Every package name a hosted member has, kept until it changes. */
async function hostedNames(ctx: RepoContext, repo: Repository): Promise<Set<string>> {
  const g = await generation(ctx, repo);
  g.names ??= ctx.store.listPackages(repo.id).then((rows) => new Set(rows.map((r) => r.name)));
  return g.names;
}

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const memberCtx = (ctx: RepoContext, m: Repository): RepoContext => ({ ...ctx, repo: m, state: ctx.services.stateOf(m) });

/** What one member says about a suite: its state now, and (on demand) its Packages texts. */
interface MemberView {
  repo: Repository;
  state: string;
  stale: boolean;
  codename?: string;
  /** Set by load when an index of the member could not be had: the merge is not kept. */
  partial?: boolean;
  load(): Promise<MemberSuite>;
}

async function hostedView(ctx: RepoContext, m: Repository, suite: string): Promise<MemberView | null> {
  const gen = (await generation(ctx, m)).gen;
  const row = await ctx.services.getIndex(m, stateKey(suite));
  if (!row) return null;
  const state = parseState(row.body);
  return {
    repo: m, state: `${gen}:${row.etag}`, stale: false, codename: state.codename,
    load: async () => {
      const indexes = new Map<string, string>();
      for (const [rel, f] of Object.entries(state.generations[0]?.files ?? {})) {
        const dir = /^(.+\/binary-[^/]+)\/Packages$/.exec(rel)?.[1];
        if (!dir) continue;
        const stored = await ctx.store.getIndex(m.id, f.content);
        if (!stored) continue;
        indexes.set(dir, (f.gunzip ? gunzipSync(stored.body) : Buffer.from(stored.body)).toString('utf8'));
      }
      return { name: m.name, kind: 'hosted', indexes, guards: await hostedNames(ctx, m) };
    },
  };
}

/** A proxy member left out: its upstream failed and it holds no copy. */
interface Down {
  down: string;
  err: unknown;
}

/** The cooldowns that reach a proxy `m` served through `via` (itself, or a group). */
function cooldownsOf(m: Repository, via: Repository): Cooldown[] {
  return [cooldownOf(m), via.id === m.id ? null : cooldownOf(via)].filter((c): c is Cooldown => c !== null);
}

/**
 * A proxy member whose upstream cannot be asked (and that holds no copy of its Release) is
 * left out, as PyPI groups leave it out: the group answers with what the other members have,
 * marked stale. A hosted member that cannot be read fails the whole answer instead: its names
 * guard the later proxies (fail closed).
 */
async function proxyView(ctx: RepoContext, m: Repository, suite: string): Promise<MemberView | Down | null> {
  const cooldowns = cooldownsOf(m, ctx.repo);
  const mctx = memberCtx(ctx, m);
  let r: Awaited<ReturnType<typeof proxyDistsEntry>>;
  try {
    r = await proxyDistsEntry(mctx, `dists/${suite}/Release`);
  } catch (err) {
    ctx.log.warn({ repo: ctx.repo.name, member: m.name, suite, err: (err as Error).message }, 'group member unavailable; left out of the merged suite');
    return { down: m.name, err };
  }
  if (!r.entry?.body) return null;
  const text = Buffer.from(r.entry.body).toString('utf8');
  const view: MemberView = {
    repo: m, state: sha256(r.entry.body), stale: r.stale, codename: releaseField(text, 'Codename'),
    load: async () => {
      let partial = false;
      const indexes = new Map<string, string>();
      for (const [dir, want] of packagesOfRelease(text)) {
        const e = await proxyDistsEntry(mctx, `dists/${suite}/${want.path}`).catch((err: Error) => {
          ctx.log.warn({ repo: ctx.repo.name, member: m.name, path: want.path, err: err.message }, 'member index unavailable; left out');
          return null;
        });
        // An index the Release does not vouch for (another generation) is left out, not trusted.
        if (!e?.entry?.body || sha256(e.entry.body) !== want.sha256) {
          if (e) ctx.log.warn({ repo: ctx.repo.name, member: m.name, path: want.path }, 'member index missing or not the one its Release lists; left out');
          partial = true;
          continue;
        }
        indexes.set(dir, (await inflate(e.entry.body)).toString('utf8'));
      }
      if (partial) view.partial = true;
      if (cooldowns.length === 0) return { name: m.name, kind: 'proxy', indexes };
      // Noted here too: an index read before its first-seen times were (a failed write) counts now.
      for (const [dir, t] of indexes) await noteFirstSeen(mctx, `dists/${suite}/${dir}`, poolHashes(t).map(([p]) => p));
      return { name: m.name, kind: 'proxy', indexes, cooldowns, firstSeen: await new FirstSeenStore(ctx.store.sql).all(m.id) };
    },
  };
  return view;
}

/** Whether a proxy serves its own filtered, re-signed index instead of its upstream's. */
export const servesOwnSuites = servesOwnIndex;

/** The merged, signed suite as it is now; null when no member has it. */
export async function groupSuite(ctx: RouteContext, suite: string): Promise<Built | null> {
  const members = readableMembers(ctx);
  const all = await Promise.all(members.map((m) => (m.kind === 'hosted' ? hostedView(ctx, m, suite) : proxyView(ctx, m, suite))));
  const down = all.filter((v): v is Down => v !== null && 'down' in v);
  const views = all.filter((v): v is MemberView => v !== null && !('down' in v));
  // Every member that has the suite is down: the upstream's error, not "no such suite".
  if (views.length === 0 && down.length > 0) throw down[0].err;
  // Hosted members the reader cannot read still guard their names (as PyPI groups do).
  const hidden = everyMember(ctx).filter((m) => m.kind === 'hosted' && !members.some((x) => x.id === m.id));
  if (views.length === 0) return null;
  const keys = await ctx.services.keys.signingKeys(ctx.repo);
  const allowlist = ctx.repo.kind === 'group' ? groupOptionsOf(ctx.repo).allowlist : [];
  const guardGens = await Promise.all(hidden.map(async (m) => (await generation(ctx, m)).gen));
  const key = [suite, ...views.map((v) => `${v.repo.name}=${v.state}`), ...guardGens, keys.map((k) => k.fingerprint).join(','), allowlist.join(','), members.map((m) => `${m.name}:${cooldownKey(m)}`).join(','), cooldownKey(ctx.repo), ...down.map((d) => `${d.down}=down`)].join(';');
  const memo = ctx.state.memo<Built>('apt:group-suites', MERGED);
  const hit = memo.get(key);
  if (hit && hit.validUntil > Date.now()) return hit;
  const loaded = await Promise.all(views.map((v) => v.load()));
  // A hosted member the reader cannot read: no stanzas, but its names guard (placed first, so
  // they hide later proxies' copies, as the member order says they would).
  const guards: MemberSuite[] = await Promise.all(hidden.map(async (m) => ({ name: m.name, kind: 'hosted' as const, indexes: new Map(), guards: await hostedNames(ctx, m) })));
  const ordered = everyMember(ctx).flatMap((m) => [...loaded, ...guards].filter((x) => x.name === m.name));
  const merged = mergeSuite(ordered, new Set(allowlist));
  const date = new Date();
  const { release, files } = groupSuiteFiles({
    suite, codename: views.find((v) => v.codename)?.codename ?? suite, origin: ctx.repo.name, label: ctx.repo.name, date, indexes: merged.indexes,
  });
  const built: Built = {
    key,
    release: Buffer.from(release),
    inRelease: Buffer.from(await clearsign(release, keys)),
    releaseGpg: Buffer.from(await detachSign(Buffer.from(release), keys, { armor: true })),
    files, owners: merged.owners, stale: down.length > 0 || views.some((v) => v.stale || v.partial), at: date.toISOString(), validUntil: Math.min(merged.nextVisible, Date.now() + REMERGE_MS),
  };
  // A merge missing a member's index is not kept under the key of a whole one (a member left
  // out entirely is not in the key): the next request merges again.
  if (views.some((v) => v.partial)) return built;
  // Each file is in the map under its name and its hashes: counted once.
  let bytes = built.inRelease.length * 2;
  for (const b of new Set(files.values())) bytes += b.length;
  memo.set(key, built, bytes);
  // By-hash files stay fetchable after the next merge (apt may read an InRelease just before it).
  const byHash = ctx.state.memo<Buffer>('apt:group-by-hash', MERGED);
  for (const [rel, b] of files) if (rel.includes('/by-hash/')) byHash.set(`${suite}/${rel}`, b, b.length);
  return built;
}

const row = (ctx: RouteContext, key: string, body: Buffer, contentType: string, at: string): IndexRow => ({
  repoId: ctx.repo.id, key, scope: '', body, gzip: null, contentType, etag: `"${sha256(body).slice(0, 27)}"`, updatedAt: at,
});

export async function groupDists(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  const rest = ctx.params['*'] ?? '';
  const slash = rest.indexOf('/');
  const suite = slash < 0 ? rest : rest.slice(0, slash);
  const rel = slash < 0 ? '' : rest.slice(slash + 1);
  if (!isValidSuite(suite) || rel === '') throw notFound();
  const answerRepo = groupAnswerRepo(ctx.repo, ctx.principal);
  if (rel.includes('/by-hash/')) {
    const kept = ctx.state.memo<Buffer>('apt:group-by-hash', MERGED).get(`${suite}/${rel}`);
    if (kept) return sendIndex(req, reply, answerRepo, row(ctx, rest, kept, 'application/octet-stream', new Date(0).toISOString()));
  }
  const built = await groupSuite(ctx, suite);
  if (!built) throw notFound(`no member of ${ctx.repo.name} has suite ${suite}`);
  markStale(reply, built.stale);
  const signed: Record<string, [Buffer, string]> = {
    InRelease: [built.inRelease, 'text/plain; charset=utf-8'], Release: [built.release, 'text/plain; charset=utf-8'], 'Release.gpg': [built.releaseGpg, 'application/pgp-signature'],
  };
  if (signed[rel]) return sendIndex(req, reply, answerRepo, row(ctx, rest, signed[rel][0], signed[rel][1], built.at));
  const body = built.files.get(rel);
  if (!body) throw notFound(`no ${rel} in suite ${suite} of ${ctx.repo.name}`);
  return sendIndex(req, reply, answerRepo, row(ctx, rest, body, rel.endsWith('.gz') ? 'application/gzip' : rel.endsWith('/Packages') ? 'text/plain; charset=utf-8' : 'application/octet-stream', built.at));
}

/** The package name a pool file's name carries (`<name>_<version>_<arch>.deb`). */
const nameOfPoolFile = (path: string) => /\/([a-z0-9][a-z0-9+.-]*)_[^_/]+_[^_/]+\.u?deb$/.exec(path)?.[1];

/**
 * A pool file from the first member that has it, with the guard applied: a name a hosted
 * member has is never fetched from a later proxy unless allow-listed.
 */
export async function groupPool(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext) {
  const path = `pool/${ctx.params['*'] ?? ''}`;
  if (path.split('/').some((s) => s === '' || s === '.' || s === '..')) throw notFound();
  const name = nameOfPoolFile(path);
  const allowed = name !== undefined && ctx.repo.kind === 'group' && groupOptionsOf(ctx.repo).allowlist.includes(name);
  const readableIds = new Set(readableMembers(ctx).map((m) => m.id));
  let guarded = false;
  let young: Error | null = null;
  for (const m of everyMember(ctx)) {
    if (m.kind === 'group') continue;
    if (m.kind === 'proxy' && guarded && !allowed) continue;
    if (m.kind === 'hosted') {
      const f = await ctx.store.getFileByPath(m.id, path);
      if (f && readableIds.has(m.id)) return sendFile(req, reply, groupAnswerRepo(m, ctx.principal), ctx.blobs, f, { contentType: 'application/vnd.debian.binary-package', immutable: true });
      if (name !== undefined && (await hostedNames(ctx, m)).has(name)) guarded = true;
      continue;
    }
    if (!readableIds.has(m.id)) continue;
    const mctx = { ...ctx, repo: m, state: ctx.services.stateOf(m) };
    // A proxy serves what it has cached or what a Packages index it holds lists.
    if (!(await ctx.store.getFileByPath(m.id, path)) && !(await expectedPoolHash(mctx, path))) continue;
    // Under a cooldown even a cached file waits until it is old enough (by first sight).
    const cooldown = strictest(cooldownsFor(cooldownsOf(m, ctx.repo), name ?? path));
    if (cooldown) {
      const seenAt = (await new FirstSeenStore(ctx.store.sql).get(m.id, path)) ?? null;
      if (tooYoung(cooldown, seenAt)) {
        young ??= tooYoungError(path, cooldown);
        continue;
      }
    }
    return proxyPool(req, reply, mctx);
  }
  throw young ?? notFound(`no member of ${ctx.repo.name} has ${path}`);
}
