// The cold proxy path: the first client gets its last byte once the content is verified,
// without waiting for the store (fsync, rename, database); a mismatch still ends in an error.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { IngestPlan, IngestResult } from '../../../src/core/format-plugin.ts';
import type { FileRow, Repository } from '../../../src/core/model.ts';
import { ContentCache } from '../../../src/core/proxy/content-cache.ts';
import type { Download } from '../../../src/core/proxy/download.ts';
import { FsBlobStore } from '../../../src/storage/fs-blob-store.ts';

const repo = { id: 1, name: 'proxy', format: 'files', kind: 'proxy', options: {} } as unknown as Repository;
const data = randomBytes(700 * 1024);
const sha = createHash('sha256').update(data).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function withCache(record: (plan: IngestPlan) => Promise<IngestResult>, fn: (cache: ContentCache) => Promise<void>, staged?: Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-content-cache-'));
  try {
    const blobs = new FsBlobStore(join(dir, 'blobs'));
    await blobs.init();
    if (staged) {
      // A disk slow to take the last write and close the file: staging ends only after `staged`.
      const stage = blobs.stage.bind(blobs);
      blobs.stage = async (source, opts) => {
        const s = await stage(source, opts);
        await staged;
        return s;
      };
    }
    await fn(new ContentCache(blobs, async (_r, plan) => {
      try {
        return await record(plan);
      } finally {
        for (const f of plan.files) await blobs.discard(f.blob);
      }
    }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const spec = (expectedSha256: string) => ({
  repo,
  path: 'f.bin',
  // In 16 KiB pieces with pauses, as a network delivers it.
  fetch: async (): Promise<Download> => ({
    status: 200,
    ok: true,
    url: 'http://upstream/f.bin',
    headers: new Headers({ 'content-length': String(data.length) }),
    body: Readable.from((async function* () {
      for (let off = 0; off < data.length; off += 16 * 1024) {
        yield data.subarray(off, off + 16 * 1024);
        if (off % (128 * 1024) === 0) await new Promise((res) => setTimeout(res, 1));
      }
    })()),
  }),
  expectedSha256,
  plan: (staged: import('../../../src/storage/blob-store.ts').StagedBlob): IngestPlan => ({ files: [{ path: 'f.bin', filename: 'f.bin', blob: staged, meta: {} }], scopes: [] }),
});

test('the first client finishes once the content is verified, before the store has recorded it', async () => {
  let release!: () => void;
  const recorded = new Promise<void>((r) => (release = r));
  await withCache(async (plan) => {
    await recorded;
    return { status: 'created', files: [{ path: plan.files[0].path } as FileRow] } as IngestResult;
  }, async (cache) => {
    const r = await cache.get(spec(sha));
    assert.equal(r.kind, 'streaming');
    if (r.kind !== 'streaming') return;
    let stored = false;
    void r.done.then(() => (stored = true));
    let timer: NodeJS.Timeout | undefined;
    const got = await Promise.race([readAll(r.stream), new Promise<null>((res) => (timer = setTimeout(() => res(null), 5000)))]);
    clearTimeout(timer);
    assert.ok(got, 'the download did not end before the record was written');
    assert.ok(got.equals(data), 'the right bytes');
    assert.equal(stored, false);
    // A second client meanwhile waits for the store, then is served from it.
    const second = cache.get(spec(sha));
    release();
    assert.equal((await second).kind, 'stored');
    assert.equal((await r.done).path, 'f.bin');
  });
});

test('the first client finishes once the last byte is hashed and checked, before the staged file is closed', async () => {
  let release!: () => void;
  const staged = new Promise<void>((r) => (release = r));
  await withCache(async (plan) => ({ status: 'created', files: [{ path: plan.files[0].path } as FileRow] }) as IngestResult, async (cache) => {
    const heads: Buffer[] = [];
    const r = await cache.get({ ...spec(sha), checkHead: (head) => void heads.push(head) });
    if (r.kind !== 'streaming') return assert.fail('not streaming');
    let timer: NodeJS.Timeout | undefined;
    const got = await Promise.race([readAll(r.stream), new Promise<null>((res) => (timer = setTimeout(() => res(null), 5000)))]);
    clearTimeout(timer);
    assert.ok(got, 'the download did not end before staging did');
    assert.ok(got.equals(data));
    assert.deepEqual(heads, [data.subarray(0, 16)], 'the first bytes were checked, once');
    release();
    assert.equal((await r.done).path, 'f.bin');
  }, staged);
});

test('a failed check of the first bytes cuts the first client, and nothing is recorded', async () => {
  let records = 0;
  await withCache(async () => {
    records++;
    return { status: 'created', files: [] } as unknown as IngestResult;
  }, async (cache) => {
    const r = await cache.get({ ...spec(sha), checkHead: () => { throw new Error('not a wheel'); } });
    if (r.kind !== 'streaming') return assert.fail('not streaming');
    await assert.rejects(readAll(r.stream), /not a wheel/);
    // Asked again at once, while the refused download's file may still be closing: a fetch of
    // its own, not the refused one's error.
    const again = await cache.get(spec(sha));
    if (again.kind !== 'streaming') return assert.fail('not a new fetch');
    assert.ok((await readAll(again.stream)).equals(data));
    await assert.rejects(r.done, /not a wheel/);
    await again.done;
    assert.equal(records, 1);
  }, new Promise((res) => setTimeout(res, 300)));
});

test('a failure to record after the client has its verified bytes leaves its download whole', async () => {
  await withCache(async () => {
    await new Promise((r) => setTimeout(r, 50));
    throw new Error('disk full');
  }, async (cache) => {
    const r = await cache.get(spec(sha));
    if (r.kind !== 'streaming') return assert.fail('not streaming');
    const got = await readAll(r.stream);
    assert.equal(got.length, data.length);
    await assert.rejects(r.done, /disk full/);
  });
});

test('a digest mismatch cuts the first client instead of ending its download, and nothing is recorded', async () => {
  let records = 0;
  await withCache(async () => {
    records++;
    return { status: 'created', files: [] } as unknown as IngestResult;
  }, async (cache) => {
    const r = await cache.get(spec('0'.repeat(64)));
    if (r.kind !== 'streaming') return assert.fail('not streaming');
    await assert.rejects(readAll(r.stream), /sha256/);
    await assert.rejects(r.done, /sha256/);
    assert.equal(records, 0);
  });
});

test('a client that lags reads the staged file, one that keeps up is handed the chunks: the bytes are right either way', async () => {
  await withCache(async (plan) => ({ status: 'created', files: [{ path: plan.files[0].path } as FileRow] }) as IngestResult, async (cache) => {
    const r = await cache.get(spec(sha));
    if (r.kind !== 'streaming') return assert.fail('not streaming');
    const parts: Buffer[] = [];
    let n = 0;
    for await (const c of r.stream) {
      parts.push(c as Buffer);
      // Now and then a pause, so the download runs ahead of this client.
      if (n++ % 3 === 0) await new Promise((res) => setTimeout(res, 2));
    }
    assert.ok(Buffer.concat(parts).equals(data));
    await r.done;
  });
});

