// The scheduler of a replica that answers no requests still learns of repositories created
// through another replica (it catches up with the change feed before each tick), so it can
// take over their jobs.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import { Wharf } from '../../../src/core/wharf.ts';
import { openDatabase } from '../../../src/db/database.ts';
import type { Sql } from '../../../src/db/sql.ts';
import { Store } from '../../../src/db/store.ts';
import { formats } from '../../../src/formats/index.ts';
import { Scheduler } from '../../../src/server/scheduler.ts';
import { FsBlobStore } from '../../../src/storage/fs-blob-store.ts';
import { FirstSeenStore } from '../../../src/db/first-seen-store.ts';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const opened: Sql[] = [];
let dir = '';
after(async () => {
  for (const s of opened) await s.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('runs the job of a repository another process created, without a request in between', async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-scheduler-'));
  const open = async () => {
    const sql = await openDatabase(join(dir, 'wharf.db'));
    opened.push(sql);
    const blobs = new FsBlobStore(join(dir, 'blobs'));
    await blobs.init();
    return Wharf.open(new Store(sql), blobs, formats, quiet);
  };
  const a = await open();
  const b = await open();
  const attempts: string[] = [];
  const log = {
    info: (o: { repo?: string }) => { if (o.repo) attempts.push(o.repo); },
    warn: (o: { repo?: string }) => { if (o.repo) attempts.push(o.repo); },
  } as unknown as FastifyBaseLogger;
  const scheduler = new Scheduler(b, log);
  // A mirror whose upstream refuses at once: the run fails, and says so for its repository.
  await a.createRepo({ name: 'mirror', format: 'pypi', kind: 'proxy', options: { upstream: 'http://127.0.0.1:9/simple/', mirror: { specs: ['x'], everyMinutes: 60 } } });
  await scheduler.tick();
  for (let i = 0; i < 100 && attempts.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(attempts, ['mirror']);
});

it('prunes first-seen rows of packages no upstream index lists any more (hourly, bounded)', async () => {
  const sql = await openDatabase(':memory:');
  opened.push(sql);
  const fsDir = await mkdtemp(join(tmpdir(), 'wharf-scheduler-fs-'));
  after(() => rm(fsDir, { recursive: true, force: true }));
  const blobs = new FsBlobStore(join(fsDir, 'blobs'));
  await blobs.init();
  const w = await Wharf.open(new Store(sql), blobs, formats, quiet);
  const repo = await w.createRepo({ name: 'debp', format: 'apt', kind: 'proxy', options: { upstream: 'http://127.0.0.1:9/' } });
  const store = new FirstSeenStore(sql);
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  await store.sighting(repo.id, 'dists/s/main/binary-amd64', ['pool/kept.deb', 'pool/gone.deb'], 'initial', new Date(t0).toISOString());
  const later = t0 + 40 * 86_400_000;
  await store.sighting(repo.id, 'dists/s/main/binary-amd64', ['pool/kept.deb'], 'initial', new Date(later).toISOString());
  assert.equal(await new Scheduler(w, quiet as unknown as FastifyBaseLogger).pruneFirstSeen(later), 1);
  assert.deepEqual([...(await store.all(repo.id)).keys()].filter((k) => !k.startsWith('#')), ['pool/kept.deb']);
});
