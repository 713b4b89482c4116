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
    for (let i = 0; i < 20 && got.bytes().length < CHUNK * 2 - 1; i++) await tick();
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

test('a client that lags reads the file, and only what is on disk', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-tail-'));
  try {
    const path = join(dir, 'staged');
    const data = randomBytes(CHUNK * 4);
    const tail = new StagedFileTail();
    // Not reading yet: four chunks arrive, two of them reach the disk.
    writeFileSync(path, data.subarray(0, CHUNK * 2));
    for (let i = 1; i <= 4; i++) tail.arrived(CHUNK * i, data.subarray(CHUNK * (i - 1), CHUNK * i));
    tail.grow(path, CHUNK * 2);
    const got = collect(tail);
    for (let i = 0; i < 50; i++) await tick();
    assert.equal(got.bytes().length, CHUNK * 2, 'read from the file up to what it holds, not beyond');
    appendFileSync(path, data.subarray(CHUNK * 2));
    tail.grow(path, CHUNK * 4);
    for (let i = 0; i < 50 && got.bytes().length < CHUNK * 4 - 1; i++) await tick();
    assert.equal(got.bytes().length, CHUNK * 4 - 1);
    tail.complete(CHUNK * 4);
    await got.ended;
    assert.ok(got.bytes().equals(data));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
