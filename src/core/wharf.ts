// The core assembled: metadata store, blob store, format plugins, auth and publishing.
// Nothing here knows about HTTP; the server and the CLI's local commands both use it.
import { BLOB_BATCH, type Store } from '../db/store.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { changedOptions, maskedOptions, recordAudit, type AuditEntry } from './audit.ts';
import { Authenticator } from './auth/authenticator.ts';
import { generatePassword, hashPassword } from './auth/passwords.ts';
import { can, type Principal } from './auth/principal.ts';
import { Catalog } from '../db/catalog.ts';
import { Sessions } from './auth/sessions.ts';
import { ProxyCacheStore } from '../db/proxy-cache-store.ts';
import { badRequest, conflict, notFound, WharfError } from './errors.ts';
import { COOLDOWN_OPTION_KEYS, normalizeCooldownOptions } from './cooldown.ts';
import { GROUP_OPTION_KEYS, groupOptionsOf, normalizeGroupOptions } from './group.ts';
import { ContentCache } from './proxy/content-cache.ts';
import { CacheUsage } from './proxy/cache-usage.ts';
import { CacheUseStore } from '../db/cache-use-store.ts';
import { MetadataCache } from './proxy/metadata-cache.ts';
import { normalizeProxyOptions, PROXY_OPTION_KEYS } from './proxy/options.ts';
import { Upstreams } from './proxy/upstream.ts';
import type { CoreServices, FormatPlugin, RepoContext } from './format-plugin.ts';
import { backupData, discardBackup, prepareBackupDir, type BackupOptions, type BackupResult } from './backup.ts';
import { ChangeFeed, type RepoChange } from './change-feed.ts';
import { IndexCache } from './index-cache.ts';
import { RepoStateRegistry } from './repo-state.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import type { Logger } from './logger.ts';
import type { IndexRow, RepoKind, Repository } from './model.ts';
import { REPO_KINDS, isValidRepoName } from './model.ts';
import { aliasTable, normalizeAliases, rewriteAlias } from './repo-aliases.ts';
import { BLOB_PIN_TTL_MS, NOT_COUNTED, PackageService } from './packages.ts';
import { Publisher } from './publisher.ts';
import { RepoKeys } from './repo-keys.ts';
import { Rerun } from './rerun.ts';
import { servedStatically, StaticTree } from './static-tree.ts';
import { normalizeHistoryDays, TimeTravel } from './time-travel.ts';

/** How long after a change the full sync of a repository's static tree runs: once for a burst. */
const STATIC_FOLLOW_MS = 1000;

export interface RepoSpec {
  name: string;
  format: string;
  kind?: RepoKind;
  public?: boolean;
  options?: Record<string, unknown>;
}

export class Wharf {
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly log: Logger;
  readonly auth: Authenticator;
  readonly sessions: Sessions;
  readonly indexCache: IndexCache;
  readonly publisher: Publisher;
  readonly packages: PackageService;
  readonly services: CoreServices;
  readonly keys: RepoKeys;
  readonly proxyCache: ProxyCacheStore;
  /** What the pages read: totals, package lists, search. */
  readonly catalog: Catalog;
  /** History of hosted repositories' files, as-of views and named snapshots. */
  readonly timeTravel: TimeTravel;
  readonly metadataCache: MetadataCache;
  readonly contentCache: ContentCache;
  /** Proxies' cached content: uses, hits and misses, eviction (maxCacheBytes, evictUnusedAfter). */
  readonly cacheUsage: CacheUsage;
  readonly upstreams = new Upstreams();
  /** What changed in the database, by this process or any other (docs/scale-out.md). */
  readonly feed: ChangeFeed;
  /** Per-repository state formats keep between requests. */
  readonly state: RepoStateRegistry;
  private readonly plugins = new Map<string, FormatPlugin>();
  private repoCache = new Map<string, Repository>();
  private aliases = new Map<string, string>();
  /** Reloads of the repository list, in order: a later one never lands before an earlier one. */
  private readonly repoReloads = new Rerun(() => this.loadRepos());
  /** Creating, changing and deleting repositories, one at a time (each reads the list the last one left). */
  private readonly repoWrites = new KeyedMutex();
  /** gc's default grace period (configuration: gcGraceSeconds). */
  gcGraceMs = DEFAULT_GC_GRACE_MS;
  /** gc and backup take turns: a backup copies blobs that gc must not free meanwhile. */
  private readonly blobMaintenance = new KeyedMutex();
  /** The static tree (configuration: staticDir), when enabled. */
  staticTree: StaticTree | null = null;
  /** Repositories whose static part another process changed, synced a moment later (enableStaticTree). */
  private readonly staticPending = new Set<number>();
  private staticTimer: NodeJS.Timeout | null = null;
  private staticRunning: Promise<void> = Promise.resolve();

  /** The core over an open store: the change feed's position and the repositories are read first. */
  static async open(store: Store, blobs: BlobStore, plugins: FormatPlugin[], log: Logger, memory: MemoryBudgets = {}): Promise<Wharf> {
    const wharf = new Wharf(store, blobs, plugins, log, await ChangeFeed.open(store), memory);
    await wharf.reloadRepos();
    return wharf;
  }

  private constructor(store: Store, blobs: BlobStore, plugins: FormatPlugin[], log: Logger, feed: ChangeFeed, memory: MemoryBudgets) {
    this.store = store;
    this.indexCache = new IndexCache(memory.indexBytes);
    this.blobs = blobs;
    this.log = log;
    this.upstreams.log = log;
    for (const p of plugins) this.plugins.set(p.format, p);
    this.auth = new Authenticator(store);
    this.sessions = new Sessions(store);
    this.feed = feed;
    this.state = new RepoStateRegistry(this.feed, { memoBytes: memory.memoBytes });
    this.publisher = new Publisher(store, this.indexCache, () => this.feed.catchUp());
    this.keys = new RepoKeys(store);
    this.proxyCache = new ProxyCacheStore(store.sql);
    this.catalog = new Catalog(store.sql);
    this.timeTravel = new TimeTravel(store, {
      pluginFor: (r) => this.pluginFor(r),
      allMembers: (r) => this.membersOf(r),
      repos: () => [...this.repoCache.values()],
    });
    this.metadataCache = new MetadataCache(this.proxyCache);
    this.feed.subscribe({ apply: (changes) => this.applyChanges(changes), reset: () => this.resetMemory() });
    this.packages = new PackageService({
      store, blobs,
      contextFor: (r) => this.contextFor(r),
      pluginFor: (r) => this.pluginFor(r),
      publish: (r, scopes, o) => this.publish(r, scopes, o),
    });
    this.contentCache = new ContentCache(blobs, (r, plan) => this.packages.recordPlan(r, plan));
    this.contentCache.log = log;
    this.cacheUsage = new CacheUsage({
      sql: store.sql, uses: new CacheUseStore(store.sql), log,
      pluginFor: (r) => this.pluginFor(r),
      deleteFile: async (r, p) => {
        await this.packages.deleteFile(r, p);
      },
    });
    this.contentCache.hooks = { fetched: (r) => this.cacheUsage.missed(r), stored: (r) => this.cacheUsage.filled(r) };
    this.services = {
      ingest: async (r, u, arrival) => {
        let target: Repository;
        try {
          target = this.uploadTarget(r);
        } catch (err) {
          await this.blobs.discard(u.staged);
          throw err;
        }
        // Counted for another repository (the group's target changed meanwhile): counted afresh.
        return this.packages.ingest(target, u, arrival?.repoId === target.id ? arrival : undefined);
      },
      arrive: (r) => {
        try {
          return this.packages.arrive(this.uploadTarget(r));
        } catch {
          return NOT_COUNTED; // refused when it is ingested
        }
      },
      publish: (r, s, o) => this.publish(r, s, o),
      deleteFile: (r, p, o) => this.packages.deleteFile(r, p, o),
      deleteVersion: (r, n, v, o) => this.packages.deleteVersion(r, n, v, o),
      deletePackage: (r, n) => this.packages.deletePackage(r, n),
      getIndex: (r, k) => this.getIndex(r, k),
      stateOf: (r) => this.state.forRepo(r),
      keys: this.keys,
      repo: (n) => this.repo(n),
      members: (r, p) => this.membersOf(r, p),
      allMembers: (r) => this.membersOf(r),
      metadata: this.metadataCache,
      content: this.contentCache,
      upstream: this.upstreams,
    };
  }

  get formats(): string[] {
    return [...this.plugins.keys()];
  }

  pluginFor(repo: Repository): FormatPlugin {
    const p = this.plugins.get(repo.format);
    if (!p) throw new Error(`no plugin for format ${repo.format}`);
    return p;
  }

  contextFor(repo: Repository): RepoContext {
    return { repo, store: this.store, blobs: this.blobs, log: this.log, services: this.services, state: this.state.forRepo(repo) };
  }

  /** What the core itself keeps in memory, brought in step with changes from the feed. */
  private async applyChanges(changes: RepoChange[]): Promise<void> {
    let repos = false;
    for (const c of changes) {
      if (c.kind === 'index') this.indexCache.delete(c.repoId, c.subject);
      else if (c.kind === 'proxy') this.metadataCache.dropMemo(c.repoId, c.subject);
      else if (c.kind === 'history') this.timeTravel.forget(c.repoId);
      else if (c.kind === 'repo') {
        repos = true;
        this.indexCache.dropRepo(c.repoId);
      }
    }
    if (repos) await this.reloadRepos();
  }

  /** Changes were missed: forget everything read from the database. */
  private async resetMemory(): Promise<void> {
    this.indexCache.clear();
    this.metadataCache.dropMemo(0);
    this.timeTravel.forget();
    await this.reloadRepos();
  }

  publish(repo: Repository, scopes: string[], opts: { now?: boolean; burst?: boolean } = {}): Promise<void> {
    return this.publisher.publish(this.contextFor(repo), this.pluginFor(repo), scopes, opts);
  }

  /**
   * Sign with a new key. The key and the dirty marks of every signed scope commit together,
   * so indexes are never left signed only by the old key: a crash before the republish
   * below is repaired by recover() at the next start.
   */
  async rotateKeys(repo: Repository, opts: { armoredPrivateKey?: string; passphrase?: string; graceDays?: number } = {}): Promise<void> {
    const plugin = this.pluginFor(repo);
    const ctx = this.contextFor(repo);
    const scopes = (await plugin.signedScopes?.(ctx)) ?? [];
    await this.keys.rotate(repo, opts, async (fingerprint, retired) => {
      for (const s of scopes) await this.store.markDirty(repo.id, s);
      await this.audit({ repo: repo.name, action: 'rotate-keys', target: fingerprint, detail: { imported: opts.armoredPrivateKey !== undefined, graceDays: opts.graceDays ?? null, ...(retired.length ? { retired } : {}) } });
    });
    await plugin.onKeysChanged?.(ctx);
    if (scopes.length) await this.publish(repo, scopes);
  }

  /** Add an imported key as a second signer until graceDays pass (false: it signs already). */
  async addSigner(repo: Repository, opts: { armoredPrivateKey: string; passphrase?: string; graceDays: number }): Promise<boolean> {
    const plugin = this.pluginFor(repo);
    const ctx = this.contextFor(repo);
    const scopes = (await plugin.signedScopes?.(ctx)) ?? [];
    const added = await this.keys.addSigner(repo, opts, async (fingerprint) => {
      for (const s of scopes) await this.store.markDirty(repo.id, s);
      await this.audit({ repo: repo.name, action: 'add-signer', target: fingerprint, detail: { graceDays: opts.graceDays } });
    });
    if (!added) return false;
    await plugin.onKeysChanged?.(ctx);
    if (scopes.length) await this.publish(repo, scopes);
    return true;
  }

  /** A published index document, from memory when it was read or published before. */
  async getIndex(repo: Repository, key: string): Promise<IndexRow | undefined> {
    await this.feed.catchUp();
    const cached = this.indexCache.get(repo.id, key);
    if (cached !== undefined) return cached ?? undefined;
    const generation = this.indexCache.generation;
    const row = await this.store.getIndex(repo.id, key);
    // A publish that committed while this read ran may have dropped (and replaced) the entry:
    // what was read can be older than that, so it is kept only when nothing was dropped meanwhile.
    // Nor is a row read inside a transaction kept: a rollback may take it back (fsck's builds).
    if (this.indexCache.generation === generation && !this.store.sql.inTransaction()) this.indexCache.set(repo.id, key, row ?? null);
    return row;
  }

  // --- repositories
  private readonly repoListeners: (() => void)[] = [];

  /** Be told whenever repositories are created, changed or deleted. */
  onReposChanged(fn: () => void): void {
    this.repoListeners.push(fn);
  }

  /** Read the repositories again; resolves once a read begun after this call is in memory. */
  private reloadRepos(): Promise<void> {
    return this.repoReloads.run();
  }

  private async loadRepos(): Promise<void> {
    this.repoCache = new Map((await this.store.listRepos()).map((r) => [r.name, r]));
    this.aliases = aliasTable(this.repoCache.values());
    for (const fn of this.repoListeners) fn();
  }

  repo(name: string): Repository | undefined {
    return this.repoCache.get(name);
  }

  /** The path below a repository a request for one of its aliases means, or undefined (see repo-aliases.ts). */
  aliasedPath(url: string): string | undefined {
    return rewriteAlias(url, this.aliases, (n) => this.repoCache.has(n));
  }

  requireRepo(name: string): Repository {
    const r = this.repoCache.get(name);
    if (!r) throw notFound(`no repository named ${name}`);
    return r;
  }

  listRepos(): Repository[] {
    return [...this.repoCache.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  private validateSpec(spec: RepoSpec): { kind: RepoKind; options: Record<string, unknown>; plugin: FormatPlugin } {
    if (!isValidRepoName(spec.name)) throw badRequest(`invalid repository name ${JSON.stringify(spec.name)}: use lowercase letters, digits, '.', '_' and '-'`);
    const plugin = this.plugins.get(spec.format);
    if (!plugin) throw badRequest(`unknown format ${JSON.stringify(spec.format)}; known: ${this.formats.join(', ')}`);
    const kind = spec.kind ?? 'hosted';
    if (!REPO_KINDS.includes(kind)) throw badRequest(`unknown kind ${JSON.stringify(kind)}`);
    if (!plugin.kinds.includes(kind)) throw badRequest(`format ${spec.format} does not support ${kind} repositories yet`);
    return { kind, options: this.normalizeOptions(plugin, spec.name, kind, spec.options ?? {}), plugin };
  }

  /** Options the core owns (listen; a proxy's upstream; a group's members) first, the format's own after. */
  private normalizeOptions(plugin: FormatPlugin, name: string, kind: RepoKind, options: Record<string, unknown>): Record<string, unknown> {
    const own: Record<string, unknown> = {};
    const rest: Record<string, unknown> = { ...options };
    const take = (keys: readonly string[]) => {
      const picked: Record<string, unknown> = {};
      for (const k of keys) if (k in rest) {
        picked[k] = rest[k];
        delete rest[k];
      }
      return picked;
    };
    const aliases = take(['aliases']).aliases;
    if (aliases !== undefined && aliases !== null) own.aliases = normalizeAliases(aliases, name, this.listRepos());
    const listen = take(['listen']).listen;
    if (listen !== undefined && listen !== null) own.listen = normalizeListen(listen);
    // How long a hosted repository keeps the past state of its files (time travel).
    const historyDays = normalizeHistoryDays(take(['historyDays']).historyDays);
    if (historyDays !== undefined) {
      if (kind !== 'hosted') throw badRequest('historyDays applies to hosted repositories');
      own.historyDays = historyDays;
    }
    if (kind === 'proxy') Object.assign(own, normalizeProxyOptions(take(PROXY_OPTION_KEYS)));
    if (kind === 'group') Object.assign(own, normalizeGroupOptions(take(GROUP_OPTION_KEYS), { name, format: plugin.format, nestedGroups: plugin.nestedGroups }, (n) => this.repo(n)));
    // A cooldown (minAge) filters what a proxy or group passes on from upstreams; hosted repositories have none.
    if (kind !== 'hosted') {
      const cooldown = normalizeCooldownOptions(take(COOLDOWN_OPTION_KEYS));
      // Accepted and ignored, a cooldown would let young packages through unannounced.
      if (cooldown.minAge && !plugin.cooldown) throw badRequest(`minAge is not supported for ${plugin.format} ${kind} repositories yet (docs/proxy-and-groups.md)`);
      Object.assign(own, cooldown);
    }
    return { ...plugin.normalizeOptions(rest, kind), ...own };
  }

  /** Where an upload to `repo` goes: itself, or a group's designated hosted member. */
  uploadTarget(repo: Repository): Repository {
    if (repo.kind === 'hosted') return repo;
    if (repo.kind === 'proxy') throw new WharfError('METHOD_NOT_ALLOWED', `${repo.name} is a proxy repository: upload to a hosted repository`);
    const target = groupOptionsOf(repo).uploadTo;
    if (!target) throw new WharfError('METHOD_NOT_ALLOWED', `group ${repo.name} has no uploadTo member`);
    return this.requireRepo(target);
  }

  /**
   * A group's members, in order; with a principal, only those it may read: a group never
   * serves a member to someone who cannot read that member.
   */
  membersOf(repo: Repository, principal?: Principal): Repository[] {
    if (repo.kind !== 'group') return [];
    return groupOptionsOf(repo).members
      .map((n) => this.repo(n))
      .filter((r): r is Repository => r !== undefined && (principal === undefined || can(principal, r, 'read')));
  }

  async createRepo(spec: RepoSpec): Promise<Repository> {
    const { repo, plugin } = await this.repoWrites.run('repos', async () => {
      const { kind, options, plugin } = this.validateSpec(spec);
      const repo = await this.store.transaction(async () => {
        if (await this.store.getRepoByName(spec.name)) return null;
        const created = await this.store.createRepo({ name: spec.name, format: spec.format, kind, publicRead: spec.public ?? true, options });
        await this.audit({ repo: spec.name, action: 'repo-create', target: spec.name, detail: { format: spec.format, kind, public: created.publicRead, options: maskedOptions(options) } });
        return created;
      });
      if (!repo) throw conflict(`repository ${spec.name} already exists`);
      await this.reloadRepos();
      return { repo, plugin };
    });
    await plugin.onCreate?.(this.contextFor(repo));
    this.log.info({ repo: repo.name, format: repo.format, kind: repo.kind }, 'repository created');
    return repo;
  }

  /** Create or update a repository declared in the configuration file. */
  async ensureRepo(spec: RepoSpec): Promise<Repository> {
    const updated = await this.repoWrites.run('repos', async () => {
      const existing = await this.store.getRepoByName(spec.name);
      if (!existing) return null;
      const { kind, options } = this.validateSpec(spec);
      if (existing.format !== spec.format || existing.kind !== kind) {
        throw badRequest(`repository ${spec.name} exists as ${existing.kind} ${existing.format}; the configuration says ${kind} ${spec.format}`);
      }
      await this.changeRepo(existing, { publicRead: spec.public ?? existing.publicRead, options: { ...existing.options, ...options } });
      await this.reloadRepos();
      return this.requireRepo(spec.name);
    });
    if (updated) await this.syncStatic(updated);
    return updated ?? this.createRepo(spec);
  }

  async updateRepo(name: string, patch: { public?: boolean; options?: Record<string, unknown> }): Promise<Repository> {
    // In turn: each patch merges into the options the previous one left, none is lost.
    const updated = await this.repoWrites.run('repos', async () => {
      const repo = this.requireRepo(name);
      const options = patch.options ? this.normalizeOptions(this.pluginFor(repo), repo.name, repo.kind, { ...repo.options, ...patch.options }) : repo.options;
      await this.changeRepo(repo, { publicRead: patch.public ?? repo.publicRead, options });
      await this.reloadRepos();
      return this.requireRepo(name);
    });
    // Made private: out of the static tree before this answers; made public: into it.
    await this.syncStatic(updated);
    return updated;
  }

  /** Store a repository's new access and options with an audit entry of what changed (nothing changed: no entry). */
  private async changeRepo(repo: Repository, next: { publicRead: boolean; options: Record<string, unknown> }): Promise<void> {
    await this.store.transaction(async () => {
      await this.store.updateRepo(repo.id, next);
      // Pages cached from another upstream do not answer for this one: revalidated at the next
      // read (the old copy stays the fallback while the new upstream does not answer).
      if (repo.kind === 'proxy' && repo.options.upstream !== next.options.upstream) await this.proxyCache.expireAll(repo.id);
      const options = changedOptions(repo.options, next.options);
      const detail = { ...(repo.publicRead !== next.publicRead ? { public: [repo.publicRead, next.publicRead] } : {}), ...(Object.keys(options).length ? { options } : {}) };
      if (Object.keys(detail).length) await this.audit({ repo: repo.name, action: 'repo-update', target: repo.name, detail });
    });
  }

  /** Append an audit entry by the current actor (src/core/audit.ts); inside a transaction, with it. */
  audit(entry: AuditEntry): Promise<void> {
    return recordAudit(this.store.sql, entry);
  }

  async deleteRepo(name: string): Promise<void> {
    await this.repoWrites.run('repos', async () => {
      const repo = this.requireRepo(name);
      const groups = this.listRepos().filter((g) => g.kind === 'group' && groupOptionsOf(g).members.includes(name));
      if (groups.length) throw conflict(`${name} is a member of ${groups.map((g) => g.name).join(', ')}; remove it there first`);
      await this.store.transaction(async () => {
        await this.store.deleteRepo(repo.id);
        await this.audit({ repo: repo.name, action: 'repo-delete', target: repo.name, detail: { format: repo.format, kind: repo.kind } });
      });
      // The feed drops what this process holds for it (index documents, format state, memos).
      await this.feed.catchUp();
      await this.reloadRepos();
      const tree = this.staticTree;
      if (tree) await this.store.sql.lock(`publish:${repo.id}`, () => tree.removeRepo(repo.name));
    });
    this.log.info({ repo: name }, 'repository deleted; its blobs are freed by gc');
  }

  /**
   * Publish the scopes left dirty by a crash, deferrable ones included, before the server
   * answers. A scope that fails to build stays dirty and is logged; the others go on.
   */
  async recover(): Promise<void> {
    const n = await this.publishDirty();
    await this.publisher.flush();
    if (n.repos) this.log.info(n, 'republished indexes left dirty by the last run');
  }

  /**
   * Publish every dirty scope, whoever marked it (a crash, or another replica that died with
   * a deferred publish pending); one that another process publishes first is skipped. Runs at
   * start and, on a server, every minute on one replica at a time (the scheduler).
   */
  async publishDirty(): Promise<{ repos: number; scopes: number }> {
    const byRepo = new Map<number, string[]>();
    for (const { repoId, scope } of await this.store.listDirty()) byRepo.set(repoId, [...(byRepo.get(repoId) ?? []), scope]);
    let scopes = 0;
    for (const [repoId, dirty] of byRepo) {
      const repo = await this.store.getRepoById(repoId);
      if (!repo) continue;
      for (const scope of dirty) {
        scopes++;
        await this.publisher.publishDirty(this.contextFor(repo), this.pluginFor(repo), [scope]).catch((err: unknown) => {
          this.log.error({ err, repo: repo.name, scope }, 'republishing a dirty index failed; it stays dirty');
        });
      }
    }
    return { repos: byRepo.size, scopes };
  }

  // --- the static tree (core/static-tree.ts, docs/static.md)

  /**
   * Write the indexes and files of public hosted repositories into `root` from now on, in step
   * with each publish, and bring the whole tree in step with the database (at start: a crash
   * may have come between a publish and the tree's write).
   */
  async enableStaticTree(root: string): Promise<void> {
    const tree = new StaticTree(root, this.store, this.blobs, this.log);
    await tree.init();
    this.staticTree = tree;
    this.publisher.afterPublish = async (ctx, plugin, scopes) => {
      // What the published scopes need at once, the rest (removals) a moment later.
      if (plugin.staticEntriesOf) {
        const done = await tree.writeScopesLocked(ctx, plugin, scopes).catch((err: unknown) => {
          this.log.error({ err, repo: ctx.repo.name }, 'static tree: writing a publish failed; the full sync follows');
          return false;
        });
        if (done) {
          this.staticPending.add(ctx.repo.id);
          this.scheduleStaticSync();
          return;
        }
      }
      await this.syncStaticLocked(tree, ctx, plugin);
    };
    // Another replica's publishes, visibility changes and deletions: the tree follows them too,
    // so a tree local to each machine stays whole (a shared one is synced twice, the second time a no-op).
    this.feed.subscribe({
      apply: (changes) => {
        for (const c of changes) if (c.kind === 'index' || c.kind === 'repo') this.staticPending.add(c.repoId);
        this.scheduleStaticSync();
      },
      reset: () => {
        for (const r of this.listRepos()) this.staticPending.add(r.id);
        this.scheduleStaticSync();
      },
    });
    const known = new Set<string>();
    for (const repo of this.listRepos()) {
      known.add(repo.name);
      await this.syncStatic(repo, { full: true });
    }
    for (const name of await tree.repoNames()) if (!known.has(name)) await tree.removeRepo(name);
  }

  private async syncStaticLocked(tree: StaticTree, ctx: RepoContext, plugin: FormatPlugin, opts: { full?: boolean } = {}): Promise<void> {
    try {
      const r = await tree.syncLocked(ctx, plugin, opts);
      if (r.written || r.removed) this.log.debug({ repo: ctx.repo.name, ...r }, 'static tree synced');
    } catch (err) {
      // The database stays the truth; the next publish or start writes the tree again.
      this.log.error({ err, repo: ctx.repo.name }, 'static tree: sync failed; Wharf answers for what is missing');
    }
  }

  /** Bring one repository's part of the static tree in step (or take it out), under its publish lock. */
  async syncStatic(repo: Repository, opts: { full?: boolean } = {}): Promise<void> {
    const tree = this.staticTree;
    if (!tree) return;
    const plugin = this.pluginFor(repo);
    if (!servedStatically(repo, plugin) && !(await tree.repoNames()).includes(repo.name)) return;
    await this.store.sql.lock(`publish:${repo.id}`, () => this.syncStaticLocked(tree, this.contextFor(repo), plugin, opts));
  }

  private scheduleStaticSync(): void {
    this.staticTimer ??= setTimeout(() => {
      this.staticTimer = null;
      this.staticRunning = this.staticRunning.then(() => this.syncPendingStatic())
        .catch((err: unknown) => this.log.error({ err }, 'static tree: following a change failed'));
    }, STATIC_FOLLOW_MS);
    // Never what keeps a process alive: shutting down settles it (settleStatic).
    this.staticTimer.unref();
  }

  private async syncPendingStatic(): Promise<void> {
    const tree = this.staticTree;
    const ids = [...this.staticPending];
    this.staticPending.clear();
    if (!tree) return;
    for (const id of ids) {
      const repo = [...this.repoCache.values()].find((r) => r.id === id);
      if (repo) await this.syncStatic(repo);
      else {
        // Deleted: its name is no longer known here, so every name the tree holds is checked.
        for (const name of await tree.repoNames()) if (!this.repoCache.has(name)) await tree.removeRepo(name);
      }
    }
  }

  /** Wait for the syncs that follow other processes' changes (before shutting down; tests). */
  async settleStatic(): Promise<void> {
    if (this.staticTimer) {
      clearTimeout(this.staticTimer);
      this.staticTimer = null;
      this.staticRunning = this.staticRunning.then(() => this.syncPendingStatic());
    }
    await this.staticRunning.catch(() => {});
  }

  /** Create the `admin` user on first start. Returns the generated password, if one was. */
  async bootstrapAdmin(password: string | undefined): Promise<string | null> {
    if ((await this.store.countUsers()) > 0) return null;
    const generated = password ? null : generatePassword();
    const hash = await hashPassword(password ?? generated!);
    await this.store.transaction(async () => {
      await this.store.createUser('admin', hash, true);
      await this.audit({ action: 'user-create', target: 'admin', detail: { admin: true, bootstrap: true } });
    });
    return generated;
  }

  /**
   * Free blobs no file references: rows left by deletes, and files a crash left without rows
   * (committed, then killed before the rows). Only those last committed more than `graceMs`
   * ago: an upload in flight commits its blob before it writes the rows that name it.
   */
  gc(opts: { graceMs?: number; dryRun?: boolean } = {}): Promise<GcResult> {
    // One gc at a time in the process (it takes turns with backups) and across replicas.
    return this.blobMaintenance.run('blobs', () => this.store.sql.lock('gc', () => this.collect(opts)));
  }

  /** Copy the data, consistently, into `dir` (absolute, absent or empty, outside `dataDir`) while serving. */
  async backup(dir: string, dataDir: string, opts: BackupOptions = {}): Promise<BackupResult> {
    return this.blobMaintenance.run('blobs', async () => {
      // Checked in turn with other backups: two into one empty directory must not both start.
      const target = await prepareBackupDir(dir, dataDir);
      try {
        const r = await backupData(this.store.sql, this.blobs, target, opts);
        this.log.info({ ...r }, 'backup written');
        return r;
      } catch (err) {
        await discardBackup(target);
        throw err;
      }
    });
  }

  private async collect(opts: { graceMs?: number; dryRun?: boolean }): Promise<GcResult> {
    const graceMs = opts.graceMs ?? this.gcGraceMs;
    const result: GcResult = { blobs: 0, bytes: 0, kept: 0, ...(opts.dryRun ? { dryRun: true } : {}) };
    if (!opts.dryRun) {
      await this.store.dropExpiredBlobPins();
      // History past each repository's historyDays no longer keeps its blobs.
      const pruned = await this.timeTravel.prune();
      if (pruned) this.log.info({ rows: pruned }, 'gc dropped file history past historyDays');
    }
    const free = async (sha256: string, size: number) => {
      if (opts.dryRun) {
        // What a real run would decide now, without claiming or deleting anything.
        const st = await this.blobs.stat(sha256);
        if (st && Date.now() - st.mtimeMs < graceMs) result.kept++;
        else {
          result.blobs++;
          result.bytes += size;
        }
        return;
      }
      // Claimed in the database before the delete, so an upload on another process waits for
      // it (and stores the bytes again) instead of naming bytes about to go.
      let claim: string | null = null;
      let gone: boolean;
      try {
        gone = await this.blobs.free(sha256, { graceMs, unused: async () => (claim = await this.store.claimBlobForDelete(sha256, BLOB_PIN_TTL_MS)) !== null });
      } finally {
        if (claim) await this.store.unpinBlobs([claim]);
      }
      if (gone) {
        result.blobs++;
        result.bytes += size;
      } else if (!(await this.store.isBlobReferenced(sha256))) {
        result.kept++;
      }
    };
    // Rows first (their file may be gone too), then files on disk that no row names.
    const seen = new Set<string>();
    if (opts.dryRun) {
      // What pruning the history (which a dry run does not do) would leave unreferenced.
      for (const sha256 of await this.timeTravel.blobsPruningFrees()) {
        const st = await this.blobs.stat(sha256);
        seen.add(sha256);
        if (st) await free(sha256, st.size);
      }
    }
    for (let after = ''; ;) {
      const batch = await this.store.unreferencedBlobs(after, 500);
      if (batch.length === 0) break;
      for (const b of batch) {
        seen.add(b.sha256);
        await free(b.sha256, b.size);
      }
      after = batch[batch.length - 1].sha256;
    }
    // Names only, checked against the rows in batches: at a million blobs a stat and a query
    // each took minutes. Only a blob no row references is looked at (its size and time).
    const check = async (batch: string[]) => {
      const referenced = await this.store.referencedBlobs(batch);
      for (const id of batch) {
        if (referenced.has(id)) continue;
        const st = await this.blobs.stat(id);
        if (st) await free(id, st.size);
      }
    };
    const pending: string[] = [];
    for await (const ids of this.blobs.listIds()) {
      for (const id of ids) if (!seen.has(id)) pending.push(id);
      while (pending.length >= BLOB_BATCH) await check(pending.splice(0, BLOB_BATCH));
    }
    await check(pending);
    if (!opts.dryRun && (result.blobs || result.kept)) this.log.info({ ...result, graceSeconds: graceMs / 1000 }, 'gc freed unreferenced blobs');
    return result;
  }
}

/** What the core's in-process caches may hold, in bytes (docs/memory.md); defaults where absent. */
export interface MemoryBudgets {
  /** Published index documents (IndexCache). */
  indexBytes?: number;
  /** Every memo of parsed upstream data and rendered proxy/group pages together (ctx.state.memo). */
  memoBytes?: number;
}

export interface GcResult {
  /** Blobs freed, and their bytes. */
  blobs: number;
  bytes: number;
  /** Unreferenced blobs kept because they were committed within the grace period. */
  kept: number;
  /** Set on a dry run: `blobs` and `bytes` are what a run now would free; nothing was. */
  dryRun?: true;
}

/** How long a blob nothing references is kept after its last commit (see Wharf.gc). */
export const DEFAULT_GC_GRACE_MS = 3600_000;

/** `listen`: serve one repository at the root of another port: a port, or "host:port" (0: any free port). */
function normalizeListen(v: unknown): string {
  const text = typeof v === 'number' ? String(v) : v;
  if (typeof text !== 'string') throw badRequest('listen must be a port or "host:port"');
  const m = /^(?:(.+):)?(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65535) throw badRequest(`listen must be a port or "host:port", not ${JSON.stringify(text)}`);
  return text;
}
