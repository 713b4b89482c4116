// Serving stored files: the bytes and ranges clients get, a blob lost from disk answered as
// a clear, logged error (not a bare 500), a truncated blob that ends the connection instead
// of hanging the client, and chunk buffers reused across downloads instead of allocated.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, truncate, unlink } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { buildServer, type WharfServer } from '../../src/server/app.ts';
import { DEFAULTS } from '../../src/server/config.ts';
import { chunkPool, CHUNK_BYTES } from '../../src/server/http/blob-sender.ts';
import { ADMIN_PASSWORD, basic } from '../helpers/server.ts';

describe('serving stored files', () => {
  let server: WharfServer;
  let data: string;
  let url: string;
  const logs: Record<string, unknown>[] = [];
  const auth = basic('admin', ADMIN_PASSWORD);
  const big = randomBytes(3 * CHUNK_BYTES + 12_345);

  const put = async (path: string, body: Buffer) => {
    const res = await fetch(`${url}/files/${path}`, { method: 'PUT', body, headers: { authorization: auth } });
    assert.equal(res.status, 201, await res.text());
  };
  const blobPath = (bytes: Buffer) => server.wharf.blobs.localPath(createSha(bytes))!;

  before(async () => {
    data = await mkdtemp(join(tmpdir(), 'wharf-serving-'));
    const stream = new Writable({
      write(chunk, _enc, cb) {
        for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line));
        cb();
      },
    });
    server = await buildServer({ ...DEFAULTS, data, port: 0, adminPassword: ADMIN_PASSWORD }, { logger: { level: 'warn', stream } });
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
    const created = await fetch(`${url}/-/api/v1/repositories`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'files', format: 'files', kind: 'hosted', public: true }),
    });
    assert.equal(created.status, 201, await created.text());
    await put('dir/big.bin', big);
  });
  after(async () => {
    await server.app.close();
    await rm(data, { recursive: true, force: true });
  });

  it('sends whole files, ranges, HEAD and 304 with the right bytes', async () => {
    const ok2xx = async () => Number(/wharf_http_responses_total\{class="2xx"\} (\d+)/.exec(await (await fetch(`${url}/-/metrics`)).text())?.[1] ?? 0);
    const before2xx = await ok2xx();
    const whole = await fetch(`${url}/files/dir/big.bin`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-length'), String(big.length));
    assert.ok(Buffer.from(await whole.arrayBuffer()).equals(big));
    const etag = whole.headers.get('etag')!;
    assert.equal(await ok2xx() - before2xx, 2, 'the download went through the onResponse hooks (metrics, request log)');
    const part = await fetch(`${url}/files/dir/big.bin`, { headers: { range: `bytes=${CHUNK_BYTES - 10}-${2 * CHUNK_BYTES + 9}` } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes ${CHUNK_BYTES - 10}-${2 * CHUNK_BYTES + 9}/${big.length}`);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(big.subarray(CHUNK_BYTES - 10, 2 * CHUNK_BYTES + 10)));
    const suffix = await fetch(`${url}/files/dir/big.bin`, { headers: { range: 'bytes=-100' } });
    assert.ok(Buffer.from(await suffix.arrayBuffer()).equals(big.subarray(big.length - 100)));
    const head = await fetch(`${url}/files/dir/big.bin`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(big.length));
    assert.equal((await head.arrayBuffer()).byteLength, 0);
    assert.equal((await fetch(`${url}/files/dir/big.bin`, { headers: { 'if-none-match': etag } })).status, 304);
    await put('empty.txt', Buffer.alloc(0));
    const empty = await fetch(`${url}/files/empty.txt`);
    assert.equal(empty.status, 200);
    assert.equal((await empty.arrayBuffer()).byteLength, 0);
  });

  it('reuses chunk buffers: many downloads allocate about as many as run at once', async () => {
    const allocated = chunkPool.allocated;
    const concurrency = 8;
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next++ < 80) {
        const body = Buffer.from(await (await fetch(`${url}/files/dir/big.bin`)).arrayBuffer());
        assert.equal(body.length, big.length);
      }
    }));
    const fresh = chunkPool.allocated - allocated;
    // 80 downloads of 4 chunks each: a buffer per chunk would be 320.
    assert.ok(fresh <= concurrency, `${fresh} buffers allocated for 80 downloads ${concurrency} at a time`);
    assert.equal(chunkPool.inUse, 0, 'every buffer returned');
  });

  it('holds one chunk per download however slowly the client reads, and frees it when the client leaves', async () => {
    await put('huge.bin', randomBytes(8 * 1024 * 1024));
    const before = chunkPool.inUse;
    const clients = await Promise.all(Array.from({ length: 4 }, () => new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const req = request(`${url}/files/huge.bin`, (res) => {
        res.pause(); // a client that stops reading
        resolve(res);
      });
      req.on('error', reject);
      req.end();
    })));
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(chunkPool.inUse - before <= 4, `${chunkPool.inUse - before} chunks held by 4 stalled downloads`);
    for (const res of clients) res.destroy();
    const deadline = Date.now() + 10_000;
    while (chunkPool.inUse !== before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(chunkPool.inUse, before, 'buffers of abandoned downloads are released');
  });

  it('answers a blob lost from disk with a clear 500 naming the file, and logs it at error level', async () => {
    const lost = randomBytes(1000);
    await put('gone/lost.bin', lost);
    await unlink(blobPath(lost));
    logs.length = 0;
    const res = await fetch(`${url}/files/gone/lost.bin`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.match(text, /files\/gone\/lost\.bin/, text);
    assert.match(text, /missing/, text);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const json = await fetch(`${url}/files/gone/lost.bin`, { headers: { accept: 'application/json' } });
    assert.equal(((await json.json()) as { error: { code: string } }).error.code, 'BLOB_MISSING');
    assert.equal((await fetch(`${url}/files/gone/lost.bin`, { method: 'HEAD' })).status, 500, 'HEAD does not claim the file is there');
    const line = logs.find((l) => (l.err as { code?: string } | undefined)?.code === 'BLOB_MISSING');
    assert.ok(line, `no error line for the missing blob in ${JSON.stringify(logs)}`);
    assert.equal(line.level, 50, 'error level');
    const err = line.err as Record<string, unknown>;
    assert.equal(err.repo, 'files');
    assert.equal(err.path, 'gone/lost.bin');
    assert.equal(err.sha256, createSha(lost));
    assert.ok(Buffer.from(await (await fetch(`${url}/files/dir/big.bin`)).arrayBuffer()).equals(big), 'the server goes on serving other files');
  });

  it('ends the connection when a blob is shorter than its file row, instead of leaving the client waiting', async () => {
    const bytes = randomBytes(2 * CHUNK_BYTES + 5);
    await put('short.bin', bytes);
    await truncate(blobPath(bytes), CHUNK_BYTES + 7);
    logs.length = 0;
    const started = Date.now();
    const res = await fetch(`${url}/files/short.bin`, { signal: AbortSignal.timeout(20_000) });
    assert.equal(res.status, 200, 'headers were already sent');
    await assert.rejects(res.arrayBuffer(), (err: Error) => err.name !== 'TimeoutError' && err.name !== 'AbortError', 'the body fails at once, not by the client timeout');
    assert.ok(Date.now() - started < 10_000);
    const line = logs.find((l) => l.code === 'BLOB_TRUNCATED');
    assert.ok(line, `no error line for the truncated blob in ${JSON.stringify(logs)}`);
    assert.equal(line.level, 50);
    assert.equal(line.path, 'short.bin');
    assert.ok(Buffer.from(await (await fetch(`${url}/files/dir/big.bin`)).arrayBuffer()).equals(big), 'the server goes on serving other files');
  });
});

function createSha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
