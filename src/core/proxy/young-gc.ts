// Young collections paced by the bytes downloaded from upstreams. node:http leaves two buffers
// per chunk of a download outside V8's heap (the socket's read and the parser's copy of the
// body): 2 MiB per MiB, all dead by the end of the request. V8 counts external memory
// allocated since its last full collection against the old generation, and a proxy's
// downloads allocate little on the JS heap itself, so no young collection runs to free those
// buffers: with a heap of ~40 MB every 4 MiB or so of downloads started a full mark-compact
// (40–80 ms of marking each, most of a cold fetch's CPU). A young collection every
// `everyBytes` downloaded frees the buffers for about a millisecond, before that limit.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (opts: { type: 'minor'; execution: 'async' }) => void;

let gcFunction: Gc | null | undefined;

/** V8's gc(), taken from a fresh context without exposing it to the process's own globals. */
function minorGc(): Gc | null {
  if (gcFunction === undefined) {
    const exposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
    try {
      setFlagsFromString('--expose-gc');
      gcFunction = runInNewContext('gc') as Gc;
    } catch {
      gcFunction = null;
    } finally {
      if (!exposed) setFlagsFromString('--no-expose-gc');
    }
  }
  return gcFunction;
}

export class YoungCollector {
  private readonly everyBytes: number;
  private since = 0;
  /** Young collections asked for (tests, metrics). */
  runs = 0;

  constructor(everyBytes = 2 * 1024 * 1024) {
    this.everyBytes = everyBytes;
  }

  /** `bytes` more were downloaded. */
  downloaded(bytes: number): void {
    this.since += bytes;
    if (this.since < this.everyBytes) return;
    this.since = 0;
    const gc = minorGc();
    if (!gc) return;
    this.runs++;
    // Async: a task of its own, not in the middle of whichever chunk crossed the line.
    gc({ type: 'minor', execution: 'async' });
  }
}
