// `wharf serve --workers N`: N processes serving one port (node:cluster), each a replica of the
// others on one PostgreSQL database (docs/scale-out.md): they share state through the database
// and its change feed, and cross-process work through its advisory locks. The primary serves
// nothing itself: it holds the data directory's lock for all of them, empties the staging area
// once, starts the workers, starts a replacement for one that dies (waiting longer after each
// quick death), and on SIGTERM/SIGINT stops them and waits for them.
import cluster, { type Worker } from 'node:cluster';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Tells a worker its slot (1..N): a replacement takes the dead worker's slot and staging directory. Not a setting. */
export const WORKER_SLOT_ENV = 'WHARF_WORKER_SLOT';

/** The worker slot of this process, or null when it is not a worker of `wharf serve --workers`. */
export function workerSlot(env: NodeJS.ProcessEnv = process.env): number | null {
  if (!cluster.isWorker) return null;
  const slot = Number(env[WORKER_SLOT_ENV]);
  return Number.isInteger(slot) && slot > 0 ? slot : null;
}

/** What a worker sends the primary once it listens. */
export interface ReadyMessage { type: 'wharf-worker-ready'; address: string }

/** Called by a worker once it listens. */
export function reportReady(address: string): void {
  const msg: ReadyMessage = { type: 'wharf-worker-ready', address };
  process.send?.(msg);
}

/** A worker that lived at least this long before dying starts again after the shortest wait. */
export const STABLE_MS = 60_000;
const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;

/** The wait before the `failures`-th quick restart in a row of one slot: 1 s, 2 s, 4 s ... 30 s. */
export function restartDelay(failures: number): number {
  return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, failures - 1));
}

export interface PrimaryLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface PrimaryOptions {
  data: string;
  workers: number;
  /** Workers get this long for requests in flight at shutdown; the primary waits a little more. */
  shutdownGraceMs: number;
  log: PrimaryLog;
}

export interface Primary {
  /** Resolves with the first worker's address once every worker listens; rejects with a worker's exit code if one could not start. */
  ready: Promise<string>;
  /** Stop every worker (SIGTERM, then SIGKILL after the grace) and wait for them. */
  stop(signal: string): Promise<void>;
  /** Send `signal` to every worker (SIGHUP: certificate files read again). */
  forward(signal: NodeJS.Signals): void;
  /** The live workers' process ids by slot. */
  pids(): Map<number, number>;
}

/** A worker that exited before it ever listened, at the first start: the whole server fails with its code. */
export class WorkerStartError extends Error {
  override name = 'WorkerStartError';
  readonly exitCode: number;
  constructor(slot: number, code: number | null, signal: string | null) {
    super(`worker ${slot} could not start (${signal ? `signal ${signal}` : `exit code ${code}`})`);
    // Its own stderr line says why; 1 unless it chose a code (2: configuration).
    this.exitCode = code && code > 0 ? code : 1;
  }
}

/** Where the workers stage uploads (`workerStaging` in app.ts puts each below it). */
const stagingRoot = (data: string) => join(data, 'blobs', 'tmp');

/** Start the workers. The caller holds the data directory's lock and releases it after `stop`. */
export async function startPrimary(opts: PrimaryOptions): Promise<Primary> {
  const { log } = opts;
  // Uploads a previous run's workers left half-staged: nothing names them. Each worker empties
  // only its own directory when it (re)starts, never one a live sibling is writing into.
  await rm(stagingRoot(opts.data), { recursive: true, force: true });
  await mkdir(stagingRoot(opts.data), { recursive: true });

  const live = new Map<number, Worker>();
  const failures = new Map<number, number>();
  const timers = new Set<NodeJS.Timeout>();
  let stopping = false;
  let started = false;
  let readyCount = 0;
  let firstAddress = '';
  let resolveReady!: (address: string) => void;
  let rejectReady!: (err: Error) => void;
  const ready = new Promise<string>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });

  const fork = (slot: number) => {
    const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(slot) });
    const bornAt = Date.now();
    let listening = false;
    live.set(slot, worker);
    const pid = worker.process.pid;
    worker.on('message', (msg: Partial<ReadyMessage>) => {
      if (msg?.type !== 'wharf-worker-ready') return;
      listening = true;
      log.info({ slot, pid, address: msg.address }, 'worker ready');
      if (!started) {
        firstAddress ||= String(msg.address);
        if (++readyCount === opts.workers) {
          started = true;
          resolveReady(firstAddress);
        }
      }
    });
    worker.on('exit', (code, signal) => {
      if (live.get(slot) === worker) live.delete(slot);
      if (stopping) return;
      if (!started) {
        // A worker that cannot start (port taken, database unreachable, bad repository
        // options) would fail the same way again: the server does not start.
        stopping = true;
        rejectReady(new WorkerStartError(slot, code, signal));
        return;
      }
      const n = listening && Date.now() - bornAt >= STABLE_MS ? 1 : (failures.get(slot) ?? 0) + 1;
      failures.set(slot, n);
      const delayMs = restartDelay(n);
      log.error({ slot, pid, code, signal, restartInMs: delayMs, quickDeaths: n }, 'worker died; starting a replacement');
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!stopping) fork(slot);
      }, delayMs);
      timers.add(timer);
    });
    log.info({ slot, pid }, 'worker started');
  };

  for (let slot = 1; slot <= opts.workers; slot++) fork(slot);

  const stop = async (signal: string) => {
    stopping = true;
    for (const t of timers) clearTimeout(t);
    timers.clear();
    const workers = [...live.values()];
    const exited = workers.map((w) => (w.isDead() ? Promise.resolve() : new Promise<void>((res) => w.once('exit', () => res()))));
    for (const w of workers) if (!w.isDead()) w.process.kill(signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM');
    // Each worker cuts its own requests after the grace; this is for one that hangs beyond it.
    const killer = setTimeout(() => {
      for (const w of workers) {
        if (w.isDead()) continue;
        log.warn({ pid: w.process.pid }, 'worker still running after the shutdown grace: killed');
        w.process.kill('SIGKILL');
      }
    }, opts.shutdownGraceMs + 30_000);
    await Promise.all(exited);
    clearTimeout(killer);
    await rm(stagingRoot(opts.data), { recursive: true, force: true });
    await mkdir(stagingRoot(opts.data), { recursive: true });
  };

  return {
    ready,
    stop,
    forward(signal) {
      for (const w of live.values()) if (!w.isDead()) w.process.kill(signal);
    },
    pids() {
      return new Map([...live].map(([slot, w]) => [slot, w.process.pid ?? 0]));
    },
  };
}
