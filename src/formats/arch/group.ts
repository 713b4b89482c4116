// Arch group repositories: `<arch>/<name>.db` and `.files` merged from every member's
// (group-merge.ts), signed with the group's own key; packages and their `.sig` from the member
// whose entry names them, signatures untouched (a packager's stays the packager's; a hosted
// member's server-made one is that member's). A proxy with a cooldown (minAge) serves its
// upstream's dbs the same way, as a group of itself: filtered, and signed with its own key. A merged db is kept (a memo the core holds)
// under a key made of every member's state: a hosted member's changes reach it through the
// change feed, a proxy's through its cached db generation.
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../../core/errors.ts';
import type { RepoContext, RouteContext } from '../../core/format-plugin.ts';
import { groupAnswerRepo, groupOptionsOf } from '../../core/group.ts';
import { cooldownKey, everyMember, readableMembers, servesOwnIndex } from '../../core/merged-index.ts';
import type { IndexRow, Repository } from '../../core/model.ts';
import { detachSign } from '../../core/signing.ts';
import { markStale, sendFile, sendIndex, sendProxied } from '../../server/http/send.ts';
import { readRepoDb } from './db-archive.ts';
import { assembleDb, bucketMember, tarEntry } from './db-buckets.ts';
import { mergeDbs, type MemberDb } from './group-merge.ts';
import { archOfFilename, filesScope, indexKey, packagePath, type DbKind } from './paths.ts';
import { lookUp, noteFirstSeen, proxyDbPair, proxyPackageFile } from './proxy.ts';
import { parseDbEntry } from './desc.ts';
import { cooldownOf, cooldownsFor, strictest, tooYoung, tooYoungError, type Cooldown } from '../../core/cooldown.ts';
import { FirstSeenStore } from '../../db/first-seen-store.ts';
import { archOptions } from './options.ts';

const MERGED = { maxEntries: 64, maxBytes: 256 * 1024 * 1024 };
/** A merge is redone at least daily: its proxies' first-seen rows and index reads are noted again, so pruning (FirstSeenStore.prune) never takes rows of what it still lists. */
const REMERGE_MS = 86_400_000;

interface Built {
  db: Buffer;
  sig: Buffer;
  owners: Map<string, string>;
  stale: boolean;
  at: string;
  /** When (ms) a young package comes of age: the db is merged again from then on. */
  validUntil: number;
}

interface Generation {
  gen: string;
  names?: Promise<Set<string>>;
}

/** A token that changes whenever `repo` changes (a holder without applyChanges goes at any change). */
function generation(ctx: RepoContext, repo: Repository): Promise<Generation> {
  return ctx.services.stateOf(repo).get('group:generation', () => ({ gen: randomUUID() } as Generation));
}

async function hostedNames(ctx: RepoContext, repo: Repository): Promise<Set<string>> {
  const g = await generation(ctx, repo);
  g.names ??= ctx.store.listPackages(repo.id).then((rows) => new Set(rows.map((r) => r.name)));
  return g.names;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const memberCtx = <C extends RepoContext>(ctx: C, m: Repository): C => ({ ...ctx, repo: m, state: ctx.services.stateOf(m) });

interface MemberView {
  repo: Repository;
  state: string;
  stale: boolean;
  load(): Promise<MemberDb>;
}

async function hostedView(ctx: RepoContext, m: Repository, arch: string, kind: DbKind): Promise<MemberView | null> {
  // A `.files` db still pending (published a moment after a change) is published first.
  if (kind === 'files' && await ctx.store.isDirty(m.id, filesScope(arch))) await ctx.services.publish(m, [filesScope(arch)], { now: true });
  const gen = (await generation(ctx, m)).gen;
  const row = await ctx.services.getIndex(m, indexKey(arch, kind));
  if (!row) return null;
  return {
    repo: m, state: `${gen}:${row.etag}`, stale: false,
    load: async () => ({ name: m.name, kind: 'hosted', entries: await readRepoDb(row.body), guards: await hostedNames(ctx, m) }),
  };
}

/** The cooldowns that reach a proxy `m` served through `via` (itself, or a group). */
function cooldownsOf(m: Repository, via: Repository): Cooldown[] {
  return [cooldownOf(m), via.id === m.id ? null : cooldownOf(via)].filter((c): c is Cooldown => c !== null);
}

/** A proxy member left out: its upstream failed and it holds no copy. */
interface Down {
  down: string;
  err: unknown;
}

/**
 * A proxy member whose upstream cannot be asked (and that holds no copy of the db) is left
 * out, as PyPI groups leave it out: the group answers with what the other members have,
 * marked stale. A hosted member that cannot be read fails the whole answer instead: its names
 * guard the later proxies (fail closed).
 */
async function proxyView(ctx: RepoContext, m: Repository, arch: string, dbFile: string): Promise<MemberView | Down | null> {
  const mctx = memberCtx(ctx, m);
  let got: Awaited<ReturnType<typeof proxyDbPair>>;
  try {
    got = await proxyDbPair(mctx, arch, dbFile);
  } catch (err) {
    ctx.log.warn({ repo: ctx.repo.name, member: m.name, arch, db: dbFile, err: (err as Error).message }, 'group member unavailable; left out of the merged db');
    return { down: m.name, err };
  }
  if (!got) return null;
  const cooldowns = cooldownsOf(m, ctx.repo);
  return {
    repo: m, state: `${got.pair.generation}:${got.pair.dbEtag}`, stale: got.stale,
    load: async () => {
      const entries = await readRepoDb(got.pair.db);
      if (cooldowns.length === 0) return { name: m.name, kind: 'proxy', entries };
      // Noted here too: a db read before its first-seen times were (a failed write) counts now.
      await noteFirstSeen(mctx, arch, dbFile, [...entries.values()].map(({ desc }) => parseDbEntry(desc).get('FILENAME')?.[0]).filter((f): f is string => !!f));
      return { name: m.name, kind: 'proxy', entries, cooldowns, firstSeen: await new FirstSeenStore(ctx.store.sql).all(m.id) };
    },
  };
}

/** Whether a proxy serves its own filtered, re-signed index instead of its upstream's. */
export const servesOwnDbs = servesOwnIndex;

/** The merged, signed db of `arch` (`dbFile`: the name asked for, passed on to proxy members); null when no member has one. */
export async function groupDb(ctx: RouteContext, arch: string, dbFile: string, kind: DbKind): Promise<Built | null> {
  const members = readableMembers(ctx);
  const all = await Promise.all(members.map((m) => (m.kind === 'hosted' ? hostedView(ctx, m, arch, kind) : proxyView(ctx, m, arch, dbFile))));
  const down = all.filter((v): v is Down => v !== null && 'down' in v);
  const views = all.filter((v): v is MemberView => v !== null && !('down' in v));
  // Every member that has the db is down: the upstream's error, not "no such db".
  if (views.length === 0 && down.length > 0) throw down[0].err;
  if (views.length === 0) return null;
  // Hosted members the reader cannot read still guard their names (as PyPI groups do).
  const unreadable = everyMember(ctx).filter((m) => m.kind === 'hosted' && !members.some((x) => x.id === m.id));
  const keys = await ctx.services.keys.signingKeys(ctx.repo);
  const allowlist = ctx.repo.kind === 'group' ? groupOptionsOf(ctx.repo).allowlist : [];
  const guardGens = await Promise.all(unreadable.map(async (m) => (await generation(ctx, m)).gen));
  const key = [arch, kind, ...views.map((v) => `${v.repo.name}=${v.state}`), ...guardGens, keys.map((k) => k.fingerprint).join(','), allowlist.join(','), members.map((m) => `${m.name}:${cooldownKey(m)}`).join(','), cooldownKey(ctx.repo), ...down.map((d) => `${d.down}=down`)].join(';');
  const memo = ctx.state.memo<Built>('arch:group-dbs', MERGED);
  const hit = memo.get(key);
  if (hit && hit.validUntil > Date.now()) return hit;
  const loaded: MemberDb[] = await Promise.all(views.map((v) => v.load()));
  const guards: MemberDb[] = await Promise.all(unreadable.map(async (m) => ({ name: m.name, kind: 'hosted' as const, entries: new Map(), guards: await hostedNames(ctx, m) })));
  const ordered = everyMember(ctx).flatMap((m) => [...loaded, ...guards].filter((x) => x.name === m.name));
  const merged = mergeDbs(ordered, new Set(allowlist));
  // One gzip member of tar entries, as the hosted dbs are made (db-buckets.ts): equal input, equal bytes.
  const entries = [...merged.entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const db = assembleDb([bucketMember(entries.map((e) => tarEntry(e.name, e.desc, kind === 'files' ? (e.files ?? '') : undefined)))]);
  const built: Built = {
    db, sig: Buffer.from(await detachSign(db, keys, { armor: false })), owners: merged.owners,
    stale: down.length > 0 || views.some((v) => v.stale), at: new Date().toISOString(), validUntil: Math.min(merged.nextVisible, Date.now() + REMERGE_MS),
  };
  memo.set(key, built, db.length * 2);
  return built;
}

const row = (ctx: RouteContext, key: string, body: Buffer, contentType: string, at: string): IndexRow => ({
  repoId: ctx.repo.id, key, scope: '', body, gzip: null, contentType, etag: `"${sha256(body).slice(0, 27)}"`, updatedAt: at,
});

export async function groupDbFile(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext, arch: string, file: string, kind: DbKind) {
  const sigWanted = file.endsWith('.sig');
  const dbFile = sigWanted ? file.slice(0, -4) : file;
  const built = await groupDb(ctx, arch, dbFile, kind);
  if (!built) throw notFound(`no member of ${ctx.repo.name} has a ${kind} db for ${arch}`);
  markStale(reply, built.stale);
  return sendIndex(req, reply, groupAnswerRepo(ctx.repo, ctx.principal),
    row(ctx, `${arch}/${file}`, sigWanted ? built.sig : built.db, sigWanted ? 'application/pgp-signature' : 'application/octet-stream', built.at));
}

/** The package name a package file's name carries (`<name>-<pkgver>-<pkgrel>-<arch>.pkg.tar.*`). */
const nameOfPackageFile = (filename: string) => /^(.+)-[^-]+-[^-]+-[^-]+\.pkg\.tar(?:\.[a-z0-9]+)?$/.exec(filename)?.[1];

/**
 * A package or its `.sig` from the first member that has it, with the guard applied: a name a
 * hosted member has is never fetched from a later proxy unless allow-listed.
 */
export async function groupPackage(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext, arch: string, name: string) {
  const pkgFile = name.endsWith('.sig') ? name.slice(0, -4) : name;
  const fileArch = archOfFilename(pkgFile);
  if (!fileArch || (fileArch !== arch && fileArch !== 'any')) throw notFound(`no file ${name} for ${arch}`);
  const pkgName = nameOfPackageFile(pkgFile);
  const allowed = pkgName !== undefined && ctx.repo.kind === 'group' && groupOptionsOf(ctx.repo).allowlist.includes(pkgName);
  const readableIds = new Set(readableMembers(ctx).map((m) => m.id));
  let guarded = false;
  let young: Error | null = null;
  for (const m of everyMember(ctx)) {
    if (m.kind === 'group') continue;
    if (m.kind === 'proxy' && guarded && !allowed) continue;
    if (m.kind === 'hosted') {
      const f = readableIds.has(m.id) ? await ctx.store.getFileByPath(m.id, packagePath(fileArch, name)) : undefined;
      if (f) {
        return sendFile(req, reply, groupAnswerRepo(m, ctx.principal), ctx.blobs, f, {
          immutable: !archOptions(m).allowOverwrite && !name.endsWith('.sig'),
          contentType: name.endsWith('.sig') ? 'application/pgp-signature' : 'application/octet-stream',
        });
      }
      if (pkgName !== undefined && (await hostedNames(ctx, m)).has(pkgName)) guarded = true;
      continue;
    }
    if (!readableIds.has(m.id)) continue;
    const mctx = memberCtx(ctx, m);
    // A proxy serves what it has cached or what a db it holds lists.
    if (!(await ctx.store.getFileByPath(m.id, packagePath(arch, name))) && !(await lookUp(mctx, arch, pkgFile))) continue;
    // Under a cooldown even a cached file waits until it is old enough (by first sight); its
    // signature with it.
    const cooldown = strictest(cooldownsFor(cooldownsOf(m, ctx.repo), pkgName ?? pkgFile));
    if (cooldown && tooYoung(cooldown, (await new FirstSeenStore(ctx.store.sql).get(m.id, pkgFile)) ?? null)) {
      young ??= tooYoungError(name, cooldown);
      continue;
    }
    return sendProxied(req, reply, groupAnswerRepo(m, ctx.principal), ctx.blobs, await proxyPackageFile(mctx, arch, name), name);
  }
  throw young ?? notFound(`no member of ${ctx.repo.name} has ${arch}/${name}`);
}
