// The S3 behaviour Wharf relies on, against a real S3-compatible server (s3rver): multipart
// upload of a blob larger than a part, ranged GETs, listing across pages, missing keys,
// idempotent commits and gc's grace period measured by the object's LastModified.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { isWharfError } from '../../../src/core/errors.ts';
import { withLocalFile } from '../../../src/storage/local-copy.ts';
import { parseS3Url, s3ClientFor, S3BlobStore } from '../../../src/storage/s3-blob-store.ts';
import { startS3, type TestS3 } from '../../helpers/s3.ts';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('S3 blob store against s3rver', () => {
  let s3: TestS3;
  let dir: string;
  let store: S3BlobStore;
  const requests: string[] = [];

  before(async () => {
    s3 = await startS3();
    dir = await mkdtemp(join(tmpdir(), 'wharf-s3-store-'));
    const client = s3ClientFor({ bucket: s3.bucket, prefix: 'blobs', endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });
    // Every request the store makes, by command: what the multipart test counts.
    client.middlewareStack.add((next, ctx) => (args) => {
      requests.push(ctx.commandName ?? '?');
      return next(args);
    }, { step: 'initialize', name: 'countRequests' });
    store = new S3BlobStore(client, { bucket: s3.bucket, prefix: 'blobs' }, { staging: join(dir, 'tmp'), partSize: 5 * MiB, pageSize: 3 });
    await store.init();
  });
  after(async () => {
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a blob larger than one part goes up in parts, streamed from its staged file, and comes back whole and by range', async () => {
    const data = randomBytes(12 * MiB);
    const staged = await store.stage(Readable.from([data.subarray(0, 7 * MiB), data.subarray(7 * MiB)]));
    assert.equal(staged.sha256, sha(data));
    requests.length = 0;
    await store.commit(staged);
    await store.discard(staged);
    assert.equal(requests.filter((r) => r === 'UploadPartCommand').length, 3, `12 MiB in 5 MiB parts: ${requests.join(', ')}`);
    assert.ok(requests.includes('CompleteMultipartUploadCommand'));
    assert.equal(existsSync(staged.path), false, 'the staged file is gone once committed');
    const up = await store.client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket })).catch(() => null);
    assert.equal(up?.Uploads?.length ?? 0, 0, 'no multipart upload left open');

    assert.ok(await store.has(staged.sha256));
    assert.equal(store.localPath(), undefined);
    assert.ok((await collect(store.open(staged.sha256))).equals(data));
    const start = 5 * MiB - 10;
    const end = 5 * MiB + 20;
    assert.ok((await collect(store.open(staged.sha256, { start, end }))).equals(data.subarray(start, end + 1)), 'a range across a part boundary');

    // The reader the blob sender uses: sequential reads on one GET, a jump starts another.
    const reader = await store.openReader(staged.sha256);
    const buf = Buffer.alloc(64 * 1024);
    let pos = 0;
    const got: Buffer[] = [];
    for (let n; pos < 300 * 1024 && (n = await reader.read(buf, 0, buf.length, pos)) > 0; pos += n) got.push(Buffer.from(buf.subarray(0, n)));
    assert.ok(Buffer.concat(got).equals(data.subarray(0, pos)));
    requests.length = 0;
    const n = await reader.read(buf, 0, 100, 11 * MiB);
    assert.ok(buf.subarray(0, n).equals(data.subarray(11 * MiB, 11 * MiB + n)) && n > 0);
    assert.deepEqual(requests, ['GetObjectCommand'], 'a jump is one ranged GET');
    assert.equal(await reader.read(buf, 0, buf.length, 12 * MiB), 0, 'at the end: 0');
    await reader.close();
  });

  test('a missing key is BLOB_MISSING for open and openReader, false for has', async () => {
    const absent = sha(Buffer.from('never stored'));
    assert.equal(await store.has(absent), false);
    await assert.rejects(store.openReader(absent), (err) => isWharfError(err) && err.code === 'BLOB_MISSING');
    await assert.rejects(collect(store.open(absent)), (err) => isWharfError(err) && err.code === 'BLOB_MISSING');
    await store.delete(absent); // deleting what is not there is no error
  });

  test('an empty blob round-trips', async () => {
    const staged = await store.stageBuffer(new Uint8Array(0));
    await store.commit(staged);
    await store.discard(staged);
    assert.equal((await collect(store.open(staged.sha256))).length, 0);
    const reader = await store.openReader(staged.sha256);
    assert.equal(await reader.read(Buffer.alloc(10), 0, 10, 0), 0);
    await reader.close();
  });

  test('a commit of bytes already stored uploads nothing and renews the time; a wrong-sized object is replaced', async () => {
    const data = Buffer.from('the same bytes twice');
    const first = await store.stageBuffer(data);
    await store.commit(first);
    await store.discard(first);
    await new Promise((r) => setTimeout(r, 1100)); // LastModified has a resolution of a second
    const again = await store.stageBuffer(data);
    requests.length = 0;
    await store.commit(again);
    await store.discard(again);
    assert.ok(!requests.includes('PutObjectCommand') && !requests.includes('CreateMultipartUploadCommand'), `not uploaded again: ${requests.join(', ')}`);
    // Committed more than a second ago, and again just now: the grace period starts again.
    assert.equal(await store.free(sha(data), { graceMs: 1000, unused: () => true }), false, 'renewed by the second commit');
    assert.ok((await collect(store.open(sha(data)))).equals(data));

    // A truncated object under the name (a damaged store) is overwritten by the next commit.
    await store.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: store.keyOf(sha(data)), Body: data.subarray(0, 4) }));
    const fix = await store.stageBuffer(data);
    await store.commit(fix);
    await store.discard(fix);
    assert.ok((await collect(store.open(sha(data)))).equals(data));
  });

  test('list walks every page (3 keys a page) and skips keys that are not blobs; free keeps young and committing blobs', async () => {
    const blobs = Array.from({ length: 8 }, (_, i) => Buffer.from(`blob ${i}`));
    for (const b of blobs) {
      const s = await store.stageBuffer(b);
      await store.commit(s);
      await store.discard(s);
    }
    await store.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'blobs/README', Body: 'not a blob' }));
    await store.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `elsewhere/${sha(blobs[0]).slice(0, 2)}/x`, Body: 'outside the prefix' }));
    requests.length = 0;
    const all = await listed(store);
    assert.ok(requests.filter((r) => r === 'ListObjectsV2Command').length >= 4, `several pages: ${requests.join(', ')}`);
    for (const b of blobs) assert.equal(all.get(sha(b))?.size, b.length);
    const raw = await store.client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
    assert.ok((raw.Contents ?? []).some((o) => o.Key === 'blobs/README'));
    assert.ok(![...all.keys()].some((k) => k.length !== 64));

    // Young: kept (unused is not even asked). Past the grace: freed, once unused says so.
    let asked = 0;
    assert.equal(await store.free(sha(blobs[0]), { graceMs: 3600_000, unused: () => (asked++, true) }), false);
    assert.equal(asked, 0);
    assert.equal(await store.free(sha(blobs[0]), { graceMs: 0, unused: () => false }), false, 'still referenced: kept');
    assert.equal(await store.free(sha(blobs[0]), { graceMs: 0, unused: () => true }), true);
    assert.equal(await store.has(sha(blobs[0])), false);

    // Committed and not yet discarded (rows not written): never freed, whatever the grace.
    const s = await store.stageBuffer(blobs[1]);
    await store.commit(s);
    assert.equal(await store.free(sha(blobs[1]), { graceMs: 0, unused: () => true }), false);
    await store.discard(s);
    assert.equal(await store.free(sha(blobs[1]), { graceMs: 0, unused: () => true }), true);
  });

  test('readers that need a file get a staged copy, removed after', async () => {
    const data = Buffer.from('zip readers want a file');
    const s = await store.stageBuffer(data);
    await store.commit(s);
    await store.discard(s);
    let seen = '';
    const text = await withLocalFile(store, sha(data), async (p) => {
      seen = p;
      return (await readFile(p)).toString();
    });
    assert.equal(text, data.toString());
    assert.equal(existsSync(seen), false);
    assert.deepEqual(await store.listTemp(), []);
  });

  test('s3:// URLs', () => {
    assert.deepEqual(parseS3Url('s3://bucket'), { bucket: 'bucket', prefix: '' });
    assert.deepEqual(parseS3Url('s3://my.bucket/a/b/'), { bucket: 'my.bucket', prefix: 'a/b' });
    for (const bad of ['s3://', 'http://bucket/x', 's3://B/x', 's3://bucket/../x', 'bucket/x']) assert.throws(() => parseS3Url(bad), /s3:\/\/BUCKET|\.\./, bad);
  });

  test('a store whose bucket does not exist fails at init with one line', async () => {
    const client = s3ClientFor({ bucket: 'nope', prefix: '', endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });
    const other = new S3BlobStore(client, { bucket: 'nope', prefix: '' }, { staging: join(dir, 'tmp2') });
    await assert.rejects(other.init(), /blob store s3:\/\/nope\/ cannot be listed: NoSuchBucket/);
  });
});

async function listed(store: S3BlobStore): Promise<Map<string, { size: number; mtimeMs: number }>> {
  const m = new Map<string, { size: number; mtimeMs: number }>();
  for await (const b of store.list()) m.set(b.sha256, b);
  return m;
}

