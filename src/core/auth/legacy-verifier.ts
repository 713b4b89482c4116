// Imported hashes (bcrypt up to cost 16: seconds of CPU) are checked in one long-lived worker
// thread, started at the first check and unref'd, so a wrong password sent by anyone cannot
// freeze downloads and uploads. Checks queue in the worker; a crash rejects the pending ones
// (a server error) and the next check starts a new worker.
import { Worker } from 'node:worker_threads';

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

/** Checks `password` against an imported hash in the worker thread. */
export function verifyImportedOffLoop(password: string, hash: string): Promise<boolean> {
  worker ??= start();
  const w = worker;
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    holdWhileBusy(w);
    w.postMessage({ id, password, hash });
  });
}
