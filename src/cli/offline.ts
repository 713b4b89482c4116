// Commands that work on a data directory directly, with the server stopped (`wharf fsck`):
// take the directory's lock first, then open the core on it as the server would, except that
// nothing is cleaned or published at open (blobs/tmp is left for the command to inspect).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../core/logger.ts';
import { Wharf } from '../core/wharf.ts';
import { openDatabase } from '../db/database.ts';
import { Store } from '../db/store.ts';
import { formats } from '../formats/index.ts';
import { lockDataDir } from '../storage/data-dir-lock.ts';
import { createBlobStore, type BlobSettings } from '../storage/open-blob-store.ts';

/** Warnings and errors as JSON lines on stderr, like the server's log; the rest is dropped. */
function stderrLogger(): Logger {
  const write = (level: string) => (obj: object | string, msg?: string) => {
    const o = typeof obj === 'string' ? { msg: obj } : { ...obj, msg };
    process.stderr.write(JSON.stringify({ level, time: Date.now(), ...o }) + '\n');
  };
  return { info: () => {}, debug: () => {}, warn: write('warn'), error: write('error') };
}

export interface OfflineWharf {
  wharf: Wharf;
  close(): void;
}

/** Lock `data` (throws DataDirLockedError if a server holds it) and open the core on it. */
export function openOffline(data: string, command: string, gcGraceSeconds: number, blobs: BlobSettings = {}): OfflineWharf {
  if (!existsSync(join(data, 'wharf.db'))) throw new Error(`${data} holds no Wharf data (no wharf.db)`);
  const lock = lockDataDir(data, command);
  try {
    const db = openDatabase(join(data, 'wharf.db'));
    const wharf = new Wharf(new Store(db), createBlobStore(data, blobs), formats, stderrLogger());
    wharf.gcGraceMs = gcGraceSeconds * 1000;
    return {
      wharf,
      close() {
        db.close();
        lock.release();
      },
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}
