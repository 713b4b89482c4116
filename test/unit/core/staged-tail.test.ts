// The proxy's first client follows a download while it is staged: chunks are handed over as
// they arrive (before the disk write), a lagging client reads only what is on disk, and the
// last byte waits for verification.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { StagedFileTail } from '../../../src/core/proxy/staged-tail.ts';

const CHUNK = 64 * 1024;

function collect(tail: StagedFileTail): { bytes: () => Buffer; ended: Promise<void> } {
  const parts: Buffer[] = [];
  tail.on('data', (c: Buffer) => parts.push(c));
  const ended = new Promise<void>((res, rej) => {
    tail.on('end', res);
    tail.on('error', rej);
  });
  return { bytes: () => Buffer.concat(parts), ended };
}

const tick = () => new Promise((r) => setImmediate(r));

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !cond() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 5));
}

test('a client that keeps up gets each chunk as it arrives, before it is on disk, all but the last byte', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-tail-'));
  try {
    const path = join(dir, 'staged');
    const data = randomBytes(CHUNK * 4);
    const tail = new StagedFileTail();
    const got = collect(tail);
    // The first chunks, written and announced as staging does.
    writeFileSync(path, data.subarray(0, CHUNK * 2));
    tail.arrived(CHUNK, data.subarray(0, CHUNK));
    tail.arrived(CHUNK * 2, data.subarray(CHUNK, CHUNK * 2));
    tail.grow(path, CHUNK * 2);
    await until(() => got.bytes().length >= CHUNK * 2 - 1);
    assert.equal(got.bytes().length, CHUNK * 2 - 1, 'everything on disk but the byte held back');
    // Two more chunks arrive and are not on disk yet: the client has them from memory.
    tail.arrived(CHUNK * 3, data.subarray(CHUNK * 2, CHUNK * 3));
    tail.arrived(CHUNK * 4, data.subarray(CHUNK * 3));
    await tick();
    assert.equal(got.bytes().length, CHUNK * 4 - 1, 'the chunks not yet written were handed over, short of the last byte');
    assert.ok(got.bytes().equals(data.subarray(0, CHUNK * 4 - 1)));
    appendFileSync(path, data.subarray(CHUNK * 2));
    tail.grow(path, CHUNK * 4);
    await tick();
    assert.equal(got.bytes().length, CHUNK * 4 - 1, 'the last byte waits for verification');
    tail.complete(CHUNK * 4);
    await got.ended;
    assert.ok(got.bytes().equals(data));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a client reading from the start is fed from memory only, even when the download outruns it', async () => {
  // The staged file holds other bytes than the download: a read of it would show in what the
  // client gets. Chunks arrive faster than the client takes them (as from a local upstream):
  // they wait in memory, not on disk, up to the tail's memory bound.
  const dir = mkdtempSync(join(tmpdir(), 'wharf-tail-'));
  try {
    const path = join(dir, 'staged');
    const chunks = 16;
    const data = randomBytes(CHUNK * chunks);
    writeFileSync(path, Buffer.alloc(data.length));
    const tail = new StagedFileTail();
    const got = collect(tail);
    for (let i = 1; i <= chunks; i++) {
      tail.arrived(CHUNK * i, data.subarray(CHUNK * (i - 1), CHUNK * i));
      if (i % 4 === 0) {
        tail.grow(path, CHUNK * i);
        await tick();
      }
    }
    tail.complete(data.length);
    await got.ended;
    assert.equal(got.bytes().length, data.length);
    assert.ok(got.bytes().equals(data), 'every byte came from the chunks, none from the file');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a client that lags reads the file, and only what is on disk', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-tail-'));
  try {
    const path = join(dir, 'staged');
    const data = randomBytes(CHUNK * 4);
    // Memory for one chunk only: a client two chunks behind reads the file.
    const tail = new StagedFileTail({ memoryBytes: CHUNK });
    // Not reading yet: four chunks arrive, two of them reach the disk.
    writeFileSync(path, data.subarray(0, CHUNK * 2));
    for (let i = 1; i <= 4; i++) tail.arrived(CHUNK * i, data.subarray(CHUNK * (i - 1), CHUNK * i));
    tail.grow(path, CHUNK * 2);
    const got = collect(tail);
    // File reads go through the thread pool: slow on a busy machine.
    await until(() => got.bytes().length >= CHUNK * 2);
    for (let i = 0; i < 50; i++) await tick();
    assert.equal(got.bytes().length, CHUNK * 2, 'read from the file up to what it holds, not beyond');
    appendFileSync(path, data.subarray(CHUNK * 2));
    tail.grow(path, CHUNK * 4);
    await until(() => got.bytes().length >= CHUNK * 4 - 1);
    assert.equal(got.bytes().length, CHUNK * 4 - 1);
    tail.complete(CHUNK * 4);
    await got.ended;
    assert.ok(got.bytes().equals(data));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('verified before the file is written: a client that lags waits for the disk, not past it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-tail-'));
  try {
    const path = join(dir, 'staged');
    const data = randomBytes(CHUNK * 4);
    const tail = new StagedFileTail({ memoryBytes: CHUNK });
    writeFileSync(path, data.subarray(0, CHUNK * 2));
    for (let i = 1; i <= 4; i++) tail.arrived(CHUNK * i, data.subarray(CHUNK * (i - 1), CHUNK * i));
    tail.grow(path, CHUNK * 2);
    tail.complete(CHUNK * 4);
    const got = collect(tail);
    await until(() => got.bytes().length >= CHUNK * 2);
    for (let i = 0; i < 50; i++) await tick();
    assert.equal(got.bytes().length, CHUNK * 2, 'only what is on disk');
    appendFileSync(path, data.subarray(CHUNK * 2));
    tail.grow(path, CHUNK * 4);
    await got.ended;
    assert.ok(got.bytes().equals(data));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a client that needs the staged file fails when it could not be written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-tail-'));
  try {
    const path = join(dir, 'staged');
    const data = randomBytes(CHUNK * 4);
    const tail = new StagedFileTail({ memoryBytes: CHUNK });
    writeFileSync(path, data.subarray(0, CHUNK));
    for (let i = 1; i <= 4; i++) tail.arrived(CHUNK * i, data.subarray(CHUNK * (i - 1), CHUNK * i));
    tail.grow(path, CHUNK);
    tail.complete(CHUNK * 4);
    const got = collect(tail);
    tail.fileFailed(new Error('disk full'));
    await assert.rejects(got.ended, /disk full/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
