// Commands that work on a data directory directly, with the server stopped (`wharf fsck`):
// take the directory's lock first, then open the core on it as the server would, except that
// nothing is cleaned or published at open (blobs/tmp is left for the command to inspect).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../core/logger.ts';
import { Wharf } from '../core/wharf.ts';
import { openDatabase } from '../db/database.ts';
import type { Sql } from '../db/sql.ts';
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
  close(): Promise<void>;
}

/** Lock `data` (throws DataDirLockedError if a server holds it) and open the core on it. */
export async function openOffline(data: string, command: string, gcGraceSeconds: number, blobs: BlobSettings & { database?: string } = {}): Promise<OfflineWharf> {
  if (!blobs.database && !existsSync(join(data, 'wharf.db'))) throw new Error(`${data} holds no Wharf data (no wharf.db)`);
  const lock = lockDataDir(data, command);
  let sql: Sql | null = null;
  try {
    sql = await openDatabase(blobs.database ?? join(data, 'wharf.db'));
    const wharf = await Wharf.open(new Store(sql), createBlobStore(data, blobs), formats, stderrLogger());
    wharf.gcGraceMs = gcGraceSeconds * 1000;
    const db = sql;
    return {
      wharf,
      async close() {
        try {
          await db.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (err) {
    await sql?.close();
    lock.release();
    throw err;
  }
}
