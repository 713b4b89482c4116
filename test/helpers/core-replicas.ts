// Two Wharf cores on one database and one blob directory: two replicas, in one test process
// (each with its own connection, caches and change feed position).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wharf } from '../../src/core/wharf.ts';
import { openDatabase } from '../../src/db/database.ts';
import { Store } from '../../src/db/store.ts';
import { formats } from '../../src/formats/index.ts';
import { FsBlobStore } from '../../src/storage/fs-blob-store.ts';
import type { Engine } from './engines.ts';

const silent = { info() {}, warn() {}, error() {}, debug() {} };

export interface CoreReplica {
  wharf: Wharf;
  blobs: FsBlobStore;
}

/** Two replicas on a fresh database of `engine`; what to close is pushed onto `cleanup`. */
export async function twoCoreReplicas(engine: Engine, cleanup: (() => Promise<unknown>)[]): Promise<{ a: CoreReplica; b: CoreReplica }> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-replicas-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const location = await engine.location(join(dir, 'wharf.db'));
  const open = async (): Promise<CoreReplica> => {
    const sql = await openDatabase(location);
    cleanup.push(() => sql.close());
    const blobs = new FsBlobStore(join(dir, 'blobs'));
    await blobs.init();
    return { wharf: await Wharf.open(new Store(sql), blobs, formats, silent), blobs };
  };
  const a = await open();
  const b = await open();
  return { a, b };
}
