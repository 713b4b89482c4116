// Imported hashes (bcrypt up to cost 16: seconds of CPU) are checked in one long-lived worker
// thread, started at the first check and unref'd, so a wrong password sent by anyone cannot
// freeze downloads and uploads. Checks queue in the worker; a crash rejects the pending ones
// (a server error) and the next check starts a new worker.
//
// At most one check per stored hash (one user) is in the worker at a time: wrong passwords
// for one user sent from many addresses (the login throttle is per name and address) wait
// behind each other instead of filling the worker's queue ahead of other users' first logins.
// The same password sent at once (parallel downloads) shares one check; beyond
// MAX_WAITING_PER_HASH different ones waiting, a check is refused with 429.
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { WharfError } from '../errors.ts';

export const MAX_WAITING_PER_HASH = 8;
const RETRY_AFTER_SECONDS = 5;

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, { resolve: (ok: boolean) => void; reject: (e: Error) => void }>();

function failAll(err: Error): void {
  for (const p of pending.values()) p.reject(err);
  pending.clear();
}

/** Referenced while a check is pending (its answer is awaited), unreferenced when idle. */
function holdWhileBusy(w: Worker): void {
  if (pending.size > 0) w.ref();
  else w.unref();
}

function start(): Worker {
  // Beside this module, as .ts when run from source and as .js once built (npm run build).
  const w = new Worker(new URL(`./legacy-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
  w.unref();
  w.on('message', (m: { id: number; ok: boolean }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    holdWhileBusy(w);
    p?.resolve(m.ok);
  });
  const gone = (err: Error): void => {
    if (worker === w) worker = null;
    failAll(err);
  };
  w.on('error', (err) => gone(err));
  w.on('exit', (code) => gone(new Error(`legacy hash worker exited (${code})`)));
  return w;
}

interface HashQueue {
  tail: Promise<unknown>;
  waiting: number;
  /** Checks queued or under way, by a keyed digest of the password (never the password). */
  same: Map<string, Promise<boolean>>;
}
const queues = new Map<string, HashQueue>();
const digestKey = createHash('sha256').update(String(Math.random())).update(String(process.hrtime.bigint())).digest();

/** Checks `password` against an imported hash in the worker thread, one check per hash at a time. */
export function verifyImportedOffLoop(password: string, hash: string): Promise<boolean> {
  let q = queues.get(hash);
  if (!q) {
    q = { tail: Promise.resolve(), waiting: 0, same: new Map() };
    queues.set(hash, q);
  }
  const key = createHash('sha256').update(digestKey).update(password).digest('base64');
  const shared = q.same.get(key);
  if (shared) return shared;
  if (q.waiting >= MAX_WAITING_PER_HASH) {
    return Promise.reject(new WharfError('TOO_MANY_REQUESTS', 'too many logins under way for this user; try again later', { 'retry-after': String(RETRY_AFTER_SECONDS) }));
  }
  const queue = q;
  queue.waiting++;
  const check = queue.tail.then(() => inWorker(password, hash));
  queue.tail = check.catch(() => undefined);
  queue.same.set(key, check);
  const done = (): void => {
    queue.waiting--;
    queue.same.delete(key);
    if (queue.waiting === 0 && queues.get(hash) === queue) queues.delete(hash);
  };
  check.then(done, done);
  return check;
}

function inWorker(password: string, hash: string): Promise<boolean> {
  worker ??= start();
  const w = worker;
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    holdWhileBusy(w);
    w.postMessage({ id, password, hash });
  });
}
