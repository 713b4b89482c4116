// One way for in-memory state to learn what changed in the database, whoever changed it: this
// process, a command run beside it, or another replica. Every write that matters appends to
// the change log in its own transaction (db/change-log.ts); `catchUp` hands the rows after the
// last one seen to the subscribers, before anything in memory is used. Inside one SQLite
// process that is one indexed read per request; across replicas a notifier (PostgreSQL
// LISTEN/NOTIFY) only needs to say "look again", and subscribers stay as they are.
import { AsyncLocalStorage } from 'node:async_hooks';
import { ChangeLog, type RepoChange } from '../db/change-log.ts';
import type { Store } from '../db/store.ts';
import { Rerun } from './rerun.ts';

export type { RepoChange } from '../db/change-log.ts';

export interface ChangeSubscriber {
  /**
   * Changes committed since the last call, oldest first. The feed waits for a returned promise
   * before the next subscriber (and before any `catchUp` caller goes on); a subscriber that
   * only marks what is stale, and reads the database at its next use, keeps requests quick.
   */
  apply(changes: RepoChange[]): void | Promise<void>;
  /** Changes were missed (the log was pruned past them): forget everything learned from the database. */
  reset(): void | Promise<void>;
}

/** Rows read per step while catching up. */
const BATCH = 5000;
/** The log keeps changes at least this long, and at least this many, for a process that looks rarely. */
const KEEP_SECONDS = 3600;
const KEEP_ROWS = 100_000;
const PRUNE_EVERY_MS = 60_000;

export class ChangeFeed {
  readonly log: ChangeLog;
  private seen: number;
  private readonly subscribers: ChangeSubscriber[] = [];
  /** Set in the async context of subscribers while they are told: a catchUp from there returns at once. */
  private readonly applying = new AsyncLocalStorage<true>();
  private readonly passes: Rerun;
  private lastPrune = Date.now();
  /** The prune under way, if any. */
  private pruning: Promise<void> | null = null;

  /** State is loaded from the database after this, so it already shows every change so far. */
  static async open(store: Store): Promise<ChangeFeed> {
    const log = new ChangeLog(store.sql);
    return new ChangeFeed(log, await log.head());
  }

  private constructor(log: ChangeLog, seen: number) {
    this.log = log;
    this.seen = seen;
    this.passes = new Rerun(() => this.pass());
  }

  subscribe(s: ChangeSubscriber): void {
    this.subscribers.push(s);
  }

  /** The last change this process has applied. */
  get position(): number {
    return this.seen;
  }

  /**
   * Apply every change committed since the last look. Cheap when there is none. Concurrent
   * callers share one read: a caller waits at most for the pass under way and one that starts
   * after its call, so it always sees what committed before it asked.
   */
  catchUp(): Promise<void> {
    // A subscriber asking (through ctx.state.get, say) while it is told would wait for itself.
    if (this.applying.getStore()) return Promise.resolve();
    // Inside a transaction the log shows this transaction's own rows, which a rollback takes back.
    if (this.log.sql.inTransaction()) return Promise.resolve();
    return this.passes.run();
  }

  private async pass(): Promise<void> {
    const head = await this.log.head();
    if (head <= this.seen) return;
    if ((await this.log.prunedThrough()) > this.seen) {
      this.seen = head;
      await this.applying.run(true, async () => {
        for (const s of this.subscribers) await s.reset();
      });
      return;
    }
    while (this.seen < head) {
      const changes = await this.log.since(this.seen, BATCH);
      if (changes.length === 0) break;
      this.seen = changes[changes.length - 1].seq;
      await this.applying.run(true, async () => {
        for (const s of this.subscribers) await s.apply(changes);
      });
    }
    if (Date.now() - this.lastPrune > PRUNE_EVERY_MS && !this.pruning) {
      this.lastPrune = Date.now();
      // Beside the pass, not in it: every request waits for the pass, and pruning the changes
      // of an import (a million rows) takes seconds even in steps. A failed prune is tried
      // again at the next minute; nothing depends on it but the log's size.
      this.pruning = this.log.prune(KEEP_SECONDS, KEEP_ROWS).then(() => {}, () => {}).finally(() => {
        this.pruning = null;
      });
    }
  }
}
