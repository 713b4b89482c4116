// Staging hashes an upload as it arrives: SHA-256 and MD5 always, SHA-1 and SHA-512 too when
// asked (APT lists all four), so the format does not read the file again.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { StagingArea } from '../../../src/storage/staging.ts';

const hex = (alg: string, b: Buffer) => createHash(alg).update(b).digest('hex');

test('staging computes every hash in the one pass that writes the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-staging-'));
  try {
    const staging = new StagingArea(join(dir, 'tmp'));
    await staging.init();
    const bytes = randomBytes(300_000);
    // In several chunks, as a request body arrives.
    const chunks = [bytes.subarray(0, 1000), bytes.subarray(1000, 200_000), bytes.subarray(200_000)];
    const all = await staging.stage(Readable.from(chunks), { allHashes: true });
    assert.deepEqual(await readFile(all.path), bytes);
    assert.deepEqual(
      { sha256: all.sha256, md5: all.md5, sha1: all.sha1, sha512: all.sha512, size: all.size },
      { sha256: hex('sha256', bytes), md5: hex('md5', bytes), sha1: hex('sha1', bytes), sha512: hex('sha512', bytes), size: bytes.length },
    );
    const plain = await staging.stage(Readable.from(chunks));
    assert.equal(plain.sha256, all.sha256);
    assert.equal(plain.sha1, undefined);
    assert.equal(plain.sha512, undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a small upload is kept in memory as well as staged; a larger one only on disk', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-staging-'));
  try {
    const staging = new StagingArea(join(dir, 'tmp'));
    await staging.init();
    const bytes = randomBytes(300_000);
    const chunks = () => Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000, 200_000), bytes.subarray(200_000)]);
    const small = await staging.stage(chunks(), { keepBytes: bytes.length });
    assert.deepEqual(small.data, bytes);
    assert.deepEqual(await readFile(small.path), bytes);
    // One byte over the limit: the chunks kept so far are dropped, the file is whole.
    const large = await staging.stage(chunks(), { keepBytes: bytes.length - 1 });
    assert.equal(large.data, undefined);
    assert.deepEqual(await readFile(large.path), bytes);
    assert.equal((await staging.stage(chunks())).data, undefined);
    // fsynced as it was closed, so a commit does not fsync it again; a file a proxy's client
    // follows while it is written is fsynced at commit instead.
    assert.equal(small.synced, true);
    assert.equal((await staging.stage(chunks(), { onWritten: () => {} })).synced, undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
