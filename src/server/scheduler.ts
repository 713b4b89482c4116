// Runs formats' scheduled actions (e.g. a proxy's configured mirror sync) in the server and
// logs how each run went; every minute, publishes dirty indexes whoever left them; and, every
// hour, prunes the audit trail when auditKeepDays is set and the first-seen rows of packages
// APT/Arch upstreams no longer list (a bounded number per run).
//
// With several replicas on one database each job runs once: a replica takes the job's lock
// (Sql.tryLock) and reads when the job last finished from the database; the others skip it
// while it runs. The finish time is written only after a run completes, so a replica killed
// mid-run leaves the job due, and another replica runs it at its next tick (the lock went
// with the dead replica's database session).
import type { FastifyBaseLogger } from 'fastify';
import type { Wharf } from '../core/wharf.ts';
import { AuditLog } from '../db/audit-log.ts';
import { FirstSeenStore } from '../db/first-seen-store.ts';

const DIRTY_SWEEP_MS = 60_000;
const AUDIT_PRUNE_MS = 3_600_000;
const FIRST_SEEN_PRUNE_MS = 3_600_000;
/** A package gone from its upstream's index keeps its first sight this long (it may come back). */
const FIRST_SEEN_GRACE_MS = 30 * 86_400_000;
const FIRST_SEEN_PRUNE_ROWS = 10_000;

export class Scheduler {
  private readonly wharf: Wharf;
  private readonly log: FastifyBaseLogger;
  /** When each job is next worth asking the database about (ms). */
  private readonly nextCheck = new Map<string, number>();
  private readonly running = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private lastSweep = 0;
  private lastPrune = 0;
  private lastFirstSeenPrune = 0;
  /** Audit entries older than this many days are deleted, hourly (configuration: auditKeepDays; 0: never). */
  auditKeepDays = 0;

  constructor(wharf: Wharf, log: FastifyBaseLogger) {
    this.wharf = wharf;
    this.log = log;
  }

  start(tickMs = 30_000): void {
    this.timer = setInterval(() => void this.tick(), tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Start every job that is due; resolves when they have started (not finished). */
  async tick(now = Date.now()): Promise<void> {
    // A replica that answers no requests learns of repositories created elsewhere here.
    try {
      await this.wharf.feed.catchUp();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'reading the change feed failed; the scheduler goes on with what it knows');
    }
    const runs: Promise<void>[] = [];
    for (const repo of this.wharf.listRepos()) {
      const job = this.wharf.pluginFor(repo).schedule?.(repo);
      const action = job && this.wharf.pluginFor(repo).actions?.[job.action];
      if (!job || !action || this.running.has(repo.name)) continue;
      const key = `${repo.name}:${job.action}`;
      if ((this.nextCheck.get(key) ?? 0) > now) continue;
      this.running.add(repo.name);
      const everyMs = job.everyMinutes * 60_000;
      const run = this.wharf.store.sql.tryLock(`schedule:${key}`, async () => {
        // Read under the lock: another replica may have just finished it.
        const finished = Number(await this.wharf.store.getSetting(`schedule:${key}`) ?? 0);
        if (now - finished < everyMs) return { ran: false as const, finished };
        const started = Date.now();
        const result = await action(this.wharf.contextFor(repo), job.args);
        await this.wharf.store.setSetting(`schedule:${key}`, String(Date.now()));
        this.log.info({ repo: repo.name, action: job.action, ms: Date.now() - started, result }, 'scheduled action done');
        return { ran: true as const, finished: Date.now() };
      }).then((r) => {
        // Held elsewhere: that replica runs it; look again next tick in case it dies.
        if (r.ran) this.nextCheck.set(key, r.value.finished + everyMs);
      }, (err: Error) => {
        this.nextCheck.set(key, Date.now() + everyMs);
        this.log.warn({ repo: repo.name, action: job.action, err: err.message }, 'scheduled action failed');
      }).finally(() => this.running.delete(repo.name));
      runs.push(run);
    }
    // Proxies' recorded uses, and eviction by maxCacheBytes / evictUnusedAfter every few minutes.
    void this.wharf.cacheUsage.tick(this.wharf.listRepos(), now).catch((err: Error) => this.log.warn({ err: err.message }, 'recording cache use failed'));
    if (now - this.lastSweep >= DIRTY_SWEEP_MS) {
      this.lastSweep = now;
      void this.sweepDirty();
    }
    if (this.auditKeepDays > 0 && now - this.lastPrune >= AUDIT_PRUNE_MS) {
      this.lastPrune = now;
      void this.pruneAudit();
    }
    if (now - this.lastFirstSeenPrune >= FIRST_SEEN_PRUNE_MS) {
      this.lastFirstSeenPrune = now;
      void this.pruneFirstSeen(now);
    }
    void Promise.all(runs);
  }

  /** Delete first-seen rows of packages no upstream index lists any more, on one replica at a time. */
  async pruneFirstSeen(now = Date.now()): Promise<number> {
    try {
      const r = await this.wharf.store.sql.tryLock('first-seen-prune', () => new FirstSeenStore(this.wharf.store.sql).prune(now, { graceMs: FIRST_SEEN_GRACE_MS, limit: FIRST_SEEN_PRUNE_ROWS }));
      if (r.ran && r.value) this.log.info({ rows: r.value }, 'pruned first-seen rows of packages upstreams no longer list');
      return r.ran ? r.value : 0;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'pruning first-seen rows failed');
      return 0;
    }
  }

  /**
   * Delete audit entries older than auditKeepDays, on one replica at a time; the deletion is
   * itself an entry (by `system`), in the same transaction, so a pruned trail says so.
   */
  async pruneAudit(now = Date.now()): Promise<number> {
    if (!(this.auditKeepDays > 0)) return 0;
    const cutoff = new Date(now - this.auditKeepDays * 86_400_000).toISOString();
    try {
      const r = await this.wharf.store.sql.tryLock('audit-prune', () => this.wharf.store.transaction(async () => {
        const n = await new AuditLog(this.wharf.store.sql).prune(cutoff);
        if (n) await this.wharf.audit({ action: 'audit-prune', detail: { before: cutoff, entries: n, keepDays: this.auditKeepDays } });
        return n;
      }));
      if (r.ran && r.value) this.log.info({ entries: r.value, before: cutoff }, 'pruned the audit trail');
      return r.ran ? r.value : 0;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'pruning the audit trail failed');
      return 0;
    }
  }

  /** Publish indexes left dirty (a deferred publish whose replica died), on one replica at a time. */
  async sweepDirty(): Promise<void> {
    try {
      const r = await this.wharf.store.sql.tryLock('publish-dirty', () => this.wharf.publishDirty());
      if (r.ran && r.value.scopes) this.log.info(r.value, 'published dirty indexes');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'publishing dirty indexes failed');
    }
  }
}
