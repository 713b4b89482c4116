// PyPI group repositories: members (hosted, proxies, other groups) merged in order. A file
// name resolves to the first member that has it. A project a hosted member has hides the
// same name in later proxy members unless the group allow-lists it: a public package can
// never shadow or join an internal one (dependency confusion).
import type { Principal } from '../../core/auth/principal.ts';
import type { RepoContext } from '../../core/format-plugin.ts';
import { groupOptionsOf } from '../../core/group.ts';
import type { Repository } from '../../core/model.ts';
import type { ContentResult } from '../../core/proxy/content-cache.ts';
import { notFound } from '../../core/errors.ts';
import { proxyOptionsOf } from '../../core/proxy/options.ts';
import { projectFiles } from './pages.ts';
import { projectKey } from './paths.ts';
import { proxiedFile, upstreamProjectPage, upstreamRoot } from './proxy.ts';
import { ACTIVE, hostedStatus, offersFiles, refuseDownload, type ProjectStatus } from './project-status.ts';
import type { SimpleFile } from './simple-types.ts';
import { cooldownOf, type Cooldown } from '../../core/cooldown.ts';
import { coolFiles, projectCooldown, simpleFileTime } from './cooldown.ts';

export interface MergedPage {
  files: SimpleFile[];
  versions: string[];
  stale: boolean;
  /** Changes whenever any contributing member's page does. */
  state: string;
  /** Until when (ms) answers built from this may be reused (Infinity: until something is published). */
  freshUntil: number;
  /** PEP 792: a hosted project's own, a proxy's upstream's, a group's first member's that has the project. */
  status: ProjectStatus;
}

const MAX_DEPTH = 4;

/** Who asks matters: a group serves only the members they may read. */
export type GroupContext = RepoContext & { principal: Principal };

// A member's own state: what is kept for it is told of its changes, not the group's.
const memberCtx = (ctx: GroupContext, member: Repository): GroupContext => ({ ...ctx, repo: member, state: ctx.services.stateOf(member) });

function fromUpstream(files: NonNullable<Awaited<ReturnType<typeof upstreamProjectPage>>['page']>['files']): SimpleFile[] {
  return files.map((f) => ({
    filename: f.filename, url: '', sha256: f.sha256 ?? '', size: f.size ?? 0, uploadTime: f.uploadTime ?? f.firstSeen ?? '',
    requiresPython: f.requiresPython, coreMetadataSha256: f.coreMetadata?.sha256 ?? null, yanked: f.yanked, yankedReason: f.yankedReason,
  }));
}

/**
 * One repository's files for a project, whatever its kind; null when it has none. `outer`: the
 * cooldowns of the groups it is reached through (a proxy applies them with its own; a hosted
 * repository is exempt).
 */
export async function memberPage(ctx: GroupContext, project: string, depth = 0, outer: readonly Cooldown[] = []): Promise<MergedPage | null> {
  const repo = ctx.repo;
  if (repo.kind === 'hosted') {
    const pkg = await ctx.store.getPackage(repo.id, project);
    if (!pkg) return null;
    // The state before the files: a change between the two reads leaves an older state with
    // newer files (answered again at the next request), never a newer state with older files.
    const state = (await ctx.services.getIndex(repo, projectKey(project, 'json')))?.etag ?? pkg.updatedAt;
    const status = await hostedStatus(ctx, project);
    if (!offersFiles(status)) return { files: [], versions: [], stale: false, state, freshUntil: Infinity, status };
    const { files } = await projectFiles(ctx, pkg.id);
    return { files, versions: await ctx.store.listVersionNames(pkg.id), stale: false, state, freshUntil: Infinity, status };
  }
  if (repo.kind === 'proxy') {
    const p = await upstreamProjectPage(ctx, project);
    if (!p.page) return null;
    const status = p.page.status ?? ACTIVE;
    // PEP 792: the upstream offers no file of a quarantined project; neither does this proxy, cached or not.
    if (!offersFiles(status)) return { files: [], versions: [], stale: p.stale, state: p.state, freshUntil: p.freshUntil, status };
    let files = fromUpstream(p.page.files);
    let state = p.state;
    if (p.stale || proxyOptionsOf(repo.options).offline) {
      // Without the upstream only cached files can be served: list just those, so installers
      // pick what is there (an offline mirror) instead of failing on what is not.
      const pkg = await ctx.store.getPackage(repo.id, project);
      const cached = new Set(pkg ? (await ctx.store.listFilesOfPackage(pkg.id)).map((f) => f.filename) : []);
      files = files.filter((f) => cached.has(f.filename));
      state += `|cached:${[...cached].length}`;
    }
    let freshUntil = p.freshUntil;
    const cooldown = projectCooldown(repo, outer, project);
    if (cooldown) {
      // What is hidden changes with the clock alone: the count keys rendered pages (it only
      // falls as files age, for one cached page and one cooldown), and answers are reused only
      // until the next file shows.
      const cooled = coolFiles(files, cooldown, simpleFileTime);
      files = cooled.files;
      state += `|young:${cooled.hidden}:${cooldown.minAgeMs}`;
      freshUntil = Math.min(freshUntil, cooled.nextVisible);
    }
    return { files, versions: [], stale: p.stale, state, freshUntil, status };
  }
  if (depth >= MAX_DEPTH) return null;
  return groupPage(ctx, project, depth + 1, outer);
}

/** Members in resolution order, with the dependency-confusion guard applied for `project`. */
export async function eligibleMembers(ctx: GroupContext, project: string): Promise<Repository[]> {
  const opts = groupOptionsOf(ctx.repo);
  const readable = new Set(ctx.services.members(ctx.repo, ctx.principal).map((m) => m.id));
  const allowed = opts.allowlist.includes(project);
  const out: Repository[] = [];
  let hostedHasIt = false;
  // The guard looks at every member, readable by the asker or not: a reader without access to
  // the private hosted member must get nothing for the name, not the public project that
  // took it (a CI job without credentials would install the impostor).
  const members = ctx.services.allMembers(ctx.repo);
  // One lookup per hosted member, made together (this runs for every request to a group).
  const has = await Promise.all(members.map(async (m) => m.kind === 'hosted' && (await ctx.store.getPackage(m.id, project)) !== undefined));
  members.forEach((m, i) => {
    if (m.kind === 'proxy' && hostedHasIt && !allowed) return;
    if (readable.has(m.id)) out.push(m);
    if (has[i]) hostedHasIt = true;
  });
  return out;
}

export async function groupPage(ctx: GroupContext, project: string, depth = 0, outer: readonly Cooldown[] = []): Promise<MergedPage | null> {
  const cooldowns = withOwn(ctx, outer);
  const seen = new Map<string, SimpleFile>();
  const versions = new Set<string>();
  const states: string[] = [];
  let stale = false;
  let status: ProjectStatus | null = null;
  let freshUntil = Infinity;
  for (const m of await eligibleMembers(ctx, project)) {
    const page = await memberPage(memberCtx(ctx, m), project, depth, cooldowns);
    states.push(`${m.name}=${page?.state ?? '-'}`);
    // A proxy member without the project may get it when its miss expires.
    if (m.kind !== 'hosted') freshUntil = Math.min(freshUntil, page?.freshUntil ?? 0);
    if (!page) continue;
    // The first member that has the project decides its status (docs/decisions.md); a
    // quarantine there withholds every member's files.
    status ??= page.status;
    stale ||= page.stale;
    if (!offersFiles(status)) break;
    for (const f of page.files) if (!seen.has(f.filename)) seen.set(f.filename, f);
    for (const v of page.versions) versions.add(v);
  }
  if (!status) return null;
  if (!offersFiles(status)) return { files: [], versions: [], stale, state: states.join(';'), freshUntil, status };
  return { files: [...seen.values()], versions: [...versions], stale, state: states.join(';'), freshUntil, status };
}

/** The first eligible member that has the file serves it (a proxy fetches it on demand). */
/** The cooldowns that reach a group's members: the enclosing groups' and the group's own. */
function withOwn(ctx: GroupContext, outer: readonly Cooldown[]): Cooldown[] {
  const own = cooldownOf(ctx.repo);
  return own ? [...outer, own] : [...outer];
}

export async function groupFile(ctx: GroupContext, project: string, name: string, depth = 0, outer: readonly Cooldown[] = []): Promise<ContentResult> {
  const filename = name.endsWith('.metadata') ? name.slice(0, -'.metadata'.length) : name;
  const cooldowns = withOwn(ctx, outer);
  const status = await groupStatus(ctx, project, depth);
  if (!offersFiles(status)) throw refuseDownload(project, status, ` in ${ctx.repo.name}`);
  let young: unknown = null;
  for (const m of await eligibleMembers(ctx, project)) {
    const mctx = memberCtx(ctx, m);
    if (m.kind === 'hosted') {
      const f = await ctx.store.getFileByPath(m.id, `packages/${project}/${name}`);
      if (f) return { kind: 'stored', file: f };
    } else if (m.kind === 'proxy') {
      const cached = await ctx.store.getFileByPath(m.id, `packages/${project}/${name}`);
      const cooled = projectCooldown(m, cooldowns, project) !== null;
      // Under a cooldown even a cached file is checked against its age (proxiedFile does).
      if (cached && !cooled) return { kind: 'stored', file: cached };
      const p = cached ? null : await upstreamProjectPage(mctx, project);
      if (cached || p?.page?.files.some((f) => f.filename === filename)) return proxiedFile(mctx, project, name, cooldowns);
    } else if (depth < MAX_DEPTH) {
      try {
        return await groupFile(mctx, project, name, depth + 1, cooldowns);
      } catch (err) {
        if ((err as { status?: number }).status !== 404) throw err;
        // Refused for its age in a nested group: say so, unless a later member serves it.
        young ??= (err as { code?: string }).code === 'TOO_YOUNG' ? err : null;
      }
    }
  }
  throw young ?? notFound(`${ctx.repo.name} has no ${name}`);
}

/** The status of the first eligible member that has the project (active when none has it). */
export async function groupStatus(ctx: GroupContext, project: string, depth = 0): Promise<ProjectStatus> {
  return (await firstStatus(ctx, project, depth)) ?? ACTIVE;
}

async function firstStatus(ctx: GroupContext, project: string, depth: number): Promise<ProjectStatus | null> {
  for (const m of await eligibleMembers(ctx, project)) {
    const mctx = memberCtx(ctx, m);
    if (m.kind === 'hosted') {
      if (await ctx.store.getPackage(m.id, project)) return hostedStatus(mctx, project);
    } else if (m.kind === 'proxy') {
      // A member whose upstream cannot be asked decides nothing (as on the page).
      const p = await upstreamProjectPage(mctx, project).catch(() => null);
      if (p?.page) return p.page.status ?? ACTIVE;
    } else if (depth < MAX_DEPTH) {
      const s = await firstStatus(mctx, project, depth + 1);
      if (s) return s;
    }
  }
  return null;
}

/** Project names across members (hosted from the database, proxies from their upstream's root). */
export async function groupRoot(ctx: GroupContext, depth = 0): Promise<{ names: Set<string>; stale: boolean; state: string }> {
  const names = new Set<string>();
  const states: string[] = [];
  let stale = false;
  for (const m of ctx.services.members(ctx.repo, ctx.principal)) {
    const mctx = memberCtx(ctx, m);
    if (m.kind === 'hosted') {
      // The state before the names, as in memberPage.
      states.push(`${m.name}=${(await ctx.services.getIndex(m, 'simple/#json'))?.etag ?? ''}`);
      for (const p of await ctx.store.listPackages(m.id)) names.add(p.displayName);
    } else if (m.kind === 'proxy') {
      const r = await upstreamRoot(mctx);
      r.names.forEach((x) => names.add(x));
      stale ||= r.stale;
      states.push(`${m.name}=${r.state}`);
    } else if (depth < MAX_DEPTH) {
      const r = await groupRoot(mctx, depth + 1);
      r.names.forEach((x) => names.add(x));
      stale ||= r.stale;
      states.push(`${m.name}=(${r.state})`);
    }
  }
  return { names, stale, state: states.join(';') };
}
