// `wharf serve --blobs s3://…` as an operator runs it, against a real S3-compatible server
// (s3rver): twine uploads and pip installs, a files repository served with Range and
// If-None-Match, pacman installs, gc frees from the bucket, and nothing is kept on local disk
// but the staging area.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { WharfClient } from '../../src/client/client.ts';
import { pip, twineUpload } from '../helpers/clients.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { startS3, type TestS3 } from '../helpers/s3.ts';
import { startServe, type ServeProcess } from '../helpers/serve-process.ts';
import { removeDir, tempDir } from '../unit/arch/fixtures.ts';
import { curl, keyring, pacman, tinyPackage, trustKey } from './arch-helpers.ts';

const PASSWORD = 'admin-s3-secret';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('wharf serve --blobs s3://', () => {
  let s3: TestS3;
  let dir: string;
  let serve: ServeProcess;
  let url: string;
  let client: WharfClient;
  let bucket: S3Client;

  const objects = async () => {
    const r = await bucket.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'wharf/' }));
    return (r.Contents ?? []).map((o) => o.Key!);
  };

  before(async () => {
    s3 = await startS3();
    dir = await tempDir('wharf-s3-it-');
    serve = await startServe(path.join(dir, 'data'), { ...s3.env, WHARF_ADMIN_PASSWORD: PASSWORD }, ['--blobs', `s3://${s3.bucket}/wharf`]);
    url = await serve.ready;
    client = new WharfClient({ url, user: 'admin', password: PASSWORD });
    bucket = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  });
  after(async () => {
    if (serve && serve.child.exitCode === null) {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
    bucket?.destroy();
    await s3?.close();
    if (dir) await removeDir(dir);
  });

  it('twine uploads a wheel into the bucket and pip installs it', async () => {
    const name = wheelFilename({ name: 'cloud-lib', version: '1.0' });
    const wheel = buildWheel({ name: 'cloud-lib', version: '1.0', summary: 'stored in S3' });
    await writeFile(path.join(dir, name), wheel);
    const up = await twineUpload(`${url}/pypi/`, 'admin', PASSWORD, [path.join(dir, name)]);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    const h = sha(wheel);
    assert.ok((await objects()).includes(`wharf/${h.slice(0, 2)}/${h.slice(2, 4)}/${h}`), 'the wheel is an object under its sha256');
    // Only the staging area on local disk, and it is empty again.
    assert.deepEqual(await readdir(path.join(dir, 'data', 'blobs')), ['tmp']);
    assert.deepEqual(await readdir(path.join(dir, 'data', 'blobs', 'tmp')), []);

    const target = path.join(dir, 'pip-target');
    const r = await pip(['install', '--index-url', `${url}/pypi/simple/`, '--target', target, 'cloud-lib']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok((await readdir(target)).includes('cloud_lib-1.0.dist-info'));
  });

  it('a files repository serves from the bucket with Range, ETag and 304', async () => {
    // No time-travel history: gc frees a deleted file's object at once.
    await client.createRepo({ name: 'files', format: 'files', public: true, options: { historyDays: 0 } });
    const body = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));
    const put = await fetch(`${url}/files/tools/blob.bin`, { method: 'PUT', body, headers: { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` } });
    assert.equal(put.status, 201, await put.text());
    const etag = `"${sha(body)}"`;
    const out = path.join(dir, 'range.bin');
    const ranged = await curl(['-D', '-', '-o', out, '-H', 'Range: bytes=70000-70099', `${url}/files/tools/blob.bin`]);
    assert.match(ranged.stdout, /^HTTP\/1\.1 206/m);
    assert.match(ranged.stdout, /^content-range: bytes 70000-70099\/200000\r?$/im);
    assert.match(ranged.stdout, new RegExp(`^etag: ${etag}\\r?$`, 'im'));
    assert.ok((await readFile(out)).equals(body.subarray(70000, 70100)));
    const suffix = await curl(['-o', out, '-H', 'Range: bytes=-10', `${url}/files/tools/blob.bin`]);
    assert.match(suffix.stdout, /206$/);
    assert.ok((await readFile(out)).equals(body.subarray(-10)));
    const whole = await curl(['-o', out, `${url}/files/tools/blob.bin`]);
    assert.match(whole.stdout, /200$/);
    assert.ok((await readFile(out)).equals(body));
    const cached = await curl(['-o', '/dev/null', '-H', `If-None-Match: ${etag}`, `${url}/files/tools/blob.bin`]);
    assert.match(cached.stdout, /304$/);
  });

  it('pacman installs a signed package stored in the bucket', { skip: process.getuid?.() !== 0 ? 'pacman needs root' : false }, async () => {
    await client.createRepo({ name: 'arch', format: 'arch', public: true });
    const gpgdir = await keyring(dir);
    const auth = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };
    const keyFile = path.join(dir, 'arch.asc');
    await writeFile(keyFile, await (await fetch(`${url}/arch/key.asc`, { headers: auth })).text());
    const { keys } = await (await fetch(`${url}/-/api/v1/repositories/arch/keys`, { headers: auth })).json() as { keys: { fingerprint: string }[] };
    await trustKey(gpgdir, keyFile, keys[0].fingerprint);
    const pkg = await tinyPackage(dir, { name: 'cloudy', version: '1.0-1' });
    assert.equal((await client.upload('arch', pkg)).status, 'created');
    const p = await pacman(path.join(dir, 'pacman'), gpgdir, 'myrepo', `${url}/arch/$arch`);
    await p.ok('-Sy', 'cloudy');
    assert.equal(await readFile(path.join(p.dir, 'root/usr/bin/cloudy'), 'utf8'), '#!/bin/sh\necho cloudy 1.0-1\n');
  });

  it('gc frees a deleted file\'s object from the bucket', async () => {
    const body = Buffer.from('short-lived\n');
    const auth = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };
    assert.equal((await fetch(`${url}/files/gone.txt`, { method: 'PUT', body, headers: auth })).status, 201);
    const h = sha(body);
    const key = `wharf/${h.slice(0, 2)}/${h.slice(2, 4)}/${h}`;
    assert.ok((await objects()).includes(key));
    assert.equal((await fetch(`${url}/files/gone.txt`, { method: 'DELETE', headers: auth })).status, 204);
    const kept = await (await fetch(`${url}/-/api/v1/gc`, { method: 'POST', headers: auth })).json() as { blobs: number; kept: number };
    assert.deepEqual([kept.blobs, kept.kept], [0, 1], 'within the grace period: kept');
    const gc = await (await fetch(`${url}/-/api/v1/gc?graceSeconds=0`, { method: 'POST', headers: auth })).json() as { blobs: number };
    assert.equal(gc.blobs, 1);
    assert.ok(!(await objects()).includes(key));
    assert.equal((await fetch(`${url}/files/tools/blob.bin`)).status, 200, 'what is still named stays');
  });

  it('with WHARF_S3_PRESIGN_SECONDS, downloads redirect to presigned URLs that pip and curl follow', async () => {
    const signed = await startServe(path.join(dir, 'data-presign'), { ...s3.env, WHARF_ADMIN_PASSWORD: PASSWORD, WHARF_S3_PRESIGN_SECONDS: '60' }, ['--blobs', `s3://${s3.bucket}/presign`]);
    try {
      const base = await signed.ready;
      const name = wheelFilename({ name: 'signed-lib', version: '2.0' });
      const wheel = buildWheel({ name: 'signed-lib', version: '2.0' });
      await writeFile(path.join(dir, name), wheel);
      const up = await twineUpload(`${base}/pypi/`, 'admin', PASSWORD, [path.join(dir, name)]);
      assert.equal(up.code, 0, up.stdout + up.stderr);
      const fileUrl = `${base}/pypi/packages/signed-lib/${name}`;
      const head = await curl(['-D', '-', '-o', '/dev/null', fileUrl]);
      assert.match(head.stdout, /^HTTP\/1\.1 302/m);
      const location = /^location: (\S+)\r?$/im.exec(head.stdout)?.[1] ?? '';
      assert.ok(location.startsWith(s3.endpoint), location);
      assert.match(location, /X-Amz-Signature=/);
      assert.match(location, /X-Amz-Expires=60/);
      assert.match(head.stdout, /^cache-control: private, no-store\r?$/im);
      const out = path.join(dir, 'signed.whl');
      const ranged = await curl(['-L', '-o', out, '-H', 'Range: bytes=10-19', fileUrl]);
      assert.match(ranged.stdout, /206$/);
      assert.ok((await readFile(out)).equals(wheel.subarray(10, 20)));
      const whole = await curl(['-L', '-o', out, fileUrl]);
      assert.match(whole.stdout, /200$/);
      assert.equal(sha(await readFile(out)), sha(wheel));
      // HEAD is answered by Wharf itself.
      const onlyHead = await curl(['-I', '-o', '/dev/null', fileUrl]);
      assert.match(onlyHead.stdout, /200$/);
      const target = path.join(dir, 'pip-signed');
      const r = await pip(['install', '--index-url', `${base}/pypi/simple/`, '--target', target, 'signed-lib']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.ok((await readdir(target)).includes('signed_lib-2.0.dist-info'));
    } finally {
      signed.child.kill('SIGTERM');
      await signed.exited;
    }
  });

  it('a bucket that does not exist stops the start with one line', async () => {
    const bad = await startServe(path.join(dir, 'data-bad'), { ...s3.env, WHARF_ADMIN_PASSWORD: PASSWORD }, ['--blobs', 's3://no-such-bucket/x']);
    assert.equal(await bad.exited, 1);
    assert.match(bad.stderr(), /^wharf: blob store s3:\/\/no-such-bucket\/x cannot be listed: NoSuchBucket/m);
  });
});
