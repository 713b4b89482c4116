// A client that stops reading a download does not hold its connection, buffer and file
// forever: after sendIdleTimeout seconds without the socket taking a byte the connection is
// closed and the blob released; a slow but steady reader still gets everything. Through a
// proxy, the first client's stall does not pace the shared upstream download: other clients
// of the same file get it at once.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { chunkPool } from '../../src/server/http/blob-sender.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const SIZE = 24 * 1024 * 1024;
const content = Buffer.alloc(SIZE);
for (let i = 0; i < SIZE; i += 4) content.writeUInt32LE((i * 2654435761) >>> 0, i);
const sha = createHash('sha256').update(content).digest('hex');

/** A raw GET; `stall` stops reading at the first bytes (before the kernel's buffers take the rest). */
function rawGet(port: number, path: string, stall = false): { socket: Socket; received: () => number; closed: Promise<void>; readOn(): void } {
  const socket = connect(port, '127.0.0.1');
  let n = 0;
  socket.on('data', (d: Buffer) => {
    n += d.length;
    if (stall) socket.pause();
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  const readOn = () => {
    stall = false;
    socket.resume();
  };
  return { socket, received: () => n, closed, readOn };
}

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Files of this process open under `dir`. */
function openFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir)) out.push(target);
    } catch {}
  }
  return out;
}

const api = (s: TestServer, body: object) => fetch(`${s.url}/-/api/v1/repositories`, { method: 'POST', headers: { authorization: s.adminAuth, 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('stalled downloads', () => {
  let server: TestServer;
  /** With the default sendIdleTimeout (60 s): the proxy's other clients must not wait for it. */
  let proxyServer: TestServer;
  let upstream: Server;
  let upstreamGets = 0;
  before(async () => {
    server = await startServer({ sendIdleTimeout: 1 });
    assert.equal((await api(server, { name: 'f', format: 'files', public: true })).status, 201);
    const put = await fetch(`${server.url}/f/big.bin`, { method: 'PUT', headers: { authorization: server.adminAuth }, body: content });
    assert.equal(put.status, 201);
    // An upstream that sends the file as fast as it is taken.
    upstream = createServer((req, res) => {
      upstreamGets++;
      if (req.url !== '/big.bin') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': SIZE });
      res.end(content);
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    const port = (upstream.address() as { port: number }).port;
    proxyServer = await startServer();
    assert.equal((await api(proxyServer, { name: 'fp', format: 'files', kind: 'proxy', public: true, options: { upstream: `http://127.0.0.1:${port}/`, idleTimeout: 30 } })).status, 201);
  });
  after(async () => {
    await server.close();
    await proxyServer.close();
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
  });

  it('a client that stops reading is disconnected after sendIdleTimeout; its buffer and file are released', async () => {
    const before = chunkPool.inUse;
    const c = rawGet(server.port, '/f/big.bin', true);
    await until('the response to start', () => c.received() > 0, 10_000);
    // The client stays paused (it would not even see the close): the server side is watched.
    const t0 = Date.now();
    await until('the connection to be closed on the server side (the chunk back, the blob closed)', () => chunkPool.inUse === before && openFilesUnder(`${server.data}/blobs/`).length === 0, 10_000);
    const ms = Date.now() - t0;
    assert.ok(ms >= 900, `closed after ${ms} ms`);
    c.readOn();
    await c.closed;
    assert.ok(c.received() < SIZE, `received ${c.received()}: the download was cut`);
  });

  it('a slow but steady reader gets the whole file', async () => {
    const c = rawGet(server.port, '/f/big.bin');
    // Read in short bursts with pauses shorter than the idle timeout.
    while (c.received() < SIZE + 100 && !c.socket.destroyed) {
      c.socket.pause();
      await new Promise((r) => setTimeout(r, 700));
      c.socket.resume();
      await new Promise((r) => setTimeout(r, 5));
      if (c.received() > SIZE) break;
    }
    assert.ok(c.received() > SIZE, `received ${c.received()} of ${SIZE} body bytes`);
    c.socket.destroy();
  });

  it('through a proxy, a first client that stops reading does not hold up the others', async () => {
    const a = rawGet(proxyServer.port, '/fp/big.bin', true);
    await until('the first proxied response to start', () => a.received() > 0, 10_000);
    const t0 = Date.now();
    const res = await fetch(`${proxyServer.url}/fp/big.bin`, { signal: AbortSignal.timeout(20_000) });
    assert.equal(res.status, 200);
    const got = Buffer.from(await res.arrayBuffer());
    assert.equal(createHash('sha256').update(got).digest('hex'), sha);
    assert.ok(Date.now() - t0 < 15_000, `the second client waited ${Date.now() - t0} ms`);
    assert.ok(!a.socket.destroyed, 'the stalled client is still connected (it is cut only after sendIdleTimeout)');
    assert.equal(upstreamGets, 1);
    a.socket.destroy();
  });
});

describe('maxConnections', () => {
  it('connections beyond maxConnections are closed at once; the server serves again when one ends', async () => {
    const server = await startServer({ maxConnections: 2 });
    try {
      const held = [connect(server.port, '127.0.0.1'), connect(server.port, '127.0.0.1')];
      for (const s of held) await new Promise((r) => s.once('connect', r));
      await new Promise((r) => setTimeout(r, 100));
      const extra = rawGet(server.port, '/-/health');
      await Promise.race([extra.closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the third connection was served')), 5_000))]);
      assert.equal(extra.received(), 0);
      held[0].destroy();
      await new Promise((r) => setTimeout(r, 100));
      const ok = await fetch(`${server.url}/-/health`, { headers: { connection: 'close' } });
      assert.equal(ok.status, 200);
      held[1].destroy();
    } finally {
      await server.close();
    }
  });
});
