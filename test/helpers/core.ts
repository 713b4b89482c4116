// The core alone (no HTTP), on SQLite and blobs in a temporary folder: for unit tests of what
// the core does with uploads, deletes and publishes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Wharf } from '../../src/core/wharf.ts';
import { openDatabase } from '../../src/db/database.ts';
import { Store } from '../../src/db/store.ts';
import { formats } from '../../src/formats/index.ts';
import { FsBlobStore } from '../../src/storage/fs-blob-store.ts';

export interface TestCore {
  wharf: Wharf;
  dir: string;
  /** Waits for publishes in flight, then removes the folder. */
  close(): Promise<void>;
}

export async function openTestCore(prefix: string): Promise<TestCore> {
  const dir = await mkdtemp(join(tmpdir(), `wharf-${prefix}-`));
  const store = new Store(await openDatabase(join(dir, 'wharf.db')));
  const blobs = new FsBlobStore(join(dir, 'blobs'));
  await blobs.init();
  const wharf = await Wharf.open(store, blobs, formats, pino({ level: 'silent' }));
  return {
    wharf,
    dir,
    close: async () => {
      await wharf.publisher.flush();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
