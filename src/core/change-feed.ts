// One way for in-memory state to learn what changed in the database, whoever changed it: this
// process, a command run beside it, or another replica. Every write that matters appends to
// the change log in its own transaction (db/change-log.ts); `catchUp` hands the rows after the
// last one seen to the subscribers, before anything in memory is used. Inside one SQLite
// process that is one indexed read per request; across replicas a notifier (PostgreSQL
// LISTEN/NOTIFY) only needs to say "look again", and subscribers stay as they are.
import { ChangeLog, type RepoChange } from '../db/change-log.ts';
import type { Store } from '../db/store.ts';

export type { RepoChange } from '../db/change-log.ts';

export interface ChangeSubscriber {
  /** Changes committed since the last call, oldest first. */
  apply(changes: RepoChange[]): void;
  /** Changes were missed (the log was pruned past them): forget everything learned from the database. */
  reset(): void;
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
  private applying = false;
  private lastPrune = Date.now();

  constructor(store: Store) {
    this.log = new ChangeLog(store.db);
    // State is loaded from the database after this, so it already shows every change so far.
    this.seen = this.log.head();
  }

  subscribe(s: ChangeSubscriber): void {
    this.subscribers.push(s);
  }

  /** The last change this process has applied. */
  get position(): number {
    return this.seen;
  }

  /** Apply every change committed since the last look. Cheap when there is none. */
  catchUp(): void {
    // Inside a transaction the log shows this transaction's own rows, which a rollback takes back.
    if (this.applying || this.log.db.isTransaction) return;
    const head = this.log.head();
    if (head <= this.seen) return;
    this.applying = true;
    try {
      if (this.log.prunedThrough() > this.seen) {
        this.seen = head;
        for (const s of this.subscribers) s.reset();
        return;
      }
      while (this.seen < head) {
        const changes = this.log.since(this.seen, BATCH);
        if (changes.length === 0) break;
        this.seen = changes[changes.length - 1].seq;
        for (const s of this.subscribers) s.apply(changes);
      }
    } finally {
      this.applying = false;
    }
    if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = Date.now();
      this.log.prune(KEEP_SECONDS, KEEP_ROWS);
    }
  }
}
