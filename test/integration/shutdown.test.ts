// `wharf serve` stops within seconds of SIGTERM: idle keep-alive connections are closed at
// once, also those whose response finished after the shutdown began; a response still being
// written gets a short grace (shutdownGraceSeconds) and is then cut.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnServer, type ChildServer } from '../helpers/child-server.ts';
import { sqliteOnly } from '../helpers/test-database.ts';

const BIG = 32 * 1024 * 1024;

/** A raw keep-alive connection that reads only when told to. */
function rawGet(port: number, path: string): { socket: Socket; received: () => number; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  let n = 0;
  socket.on('data', (d: Buffer) => (n += d.length));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
  return { socket, received: () => n, closed };
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('wharf serve shuts down promptly', () => {
  let data: string;
  before(async () => {
    data = await mkdtemp(path.join(tmpdir(), 'wharf-shutdown-'));
  });
  after(() => rm(data, { recursive: true, force: true }));

  async function serverWithBigFile(env: NodeJS.ProcessEnv = {}): Promise<ChildServer> {
    const server = await spawnServer(data, { env });
    const api = await fetch(`${server.url}/-/api/v1/repositories`, { method: 'POST', headers: { authorization: server.adminAuth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'f', format: 'files', public: true }) });
    assert.ok(api.status === 201 || api.status === 409);
    const put = await fetch(`${server.url}/f/big.bin`, { method: 'PUT', headers: { authorization: server.adminAuth }, body: Buffer.alloc(BIG, 7) });
    assert.ok(put.status === 201 || put.status === 200, `PUT ${put.status}`);
    return server;
  }

  it('a response that finishes after SIGTERM does not keep its keep-alive connection (and the process) alive', async () => {
    const server = await serverWithBigFile();
    const c = rawGet(server.port, '/f/big.bin');
    // Pause reading once the response has begun, so it is still being written at SIGTERM.
    await until('the response to start', () => c.received() > 0);
    c.socket.pause();
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    const stopped = server.stop();
    await new Promise((r) => setTimeout(r, 300));
    c.socket.resume();
    await until('the whole body', () => c.received() >= BIG, 20_000);
    await stopped;
    const ms = Date.now() - t0;
    assert.ok(ms < 8_000, `stopped after ${ms} ms`);
    await c.closed;
  });

  it('closes its database on the way out: SQLite folds its write-ahead log back and removes it', { skip: sqliteOnly('it looks at the write-ahead log of wharf.db') }, async () => {
    const server = await serverWithBigFile();
    assert.ok(existsSync(path.join(data, 'wharf.db-wal')), 'a log while it runs');
    await server.stop();
    assert.equal(existsSync(path.join(data, 'wharf.db-wal')), false, 'no log left after SIGTERM');
  });

  it('a response that stalls is cut after the shutdown grace', async () => {
    const server = await serverWithBigFile({ WHARF_SHUTDOWN_GRACE_SECONDS: '2' });
    const idle = rawGet(server.port, '/-/health');
    await until('the health answer', () => idle.received() > 0);
    const c = rawGet(server.port, '/f/big.bin');
    await until('the response to start', () => c.received() > 0);
    c.socket.pause();
    const t0 = Date.now();
    await server.stop();
    const ms = Date.now() - t0;
    assert.ok(ms >= 1_500 && ms < 8_000, `stopped after ${ms} ms`);
    await idle.closed;
    c.socket.resume();
    await c.closed;
    assert.ok(c.received() < BIG, 'the stalled download was cut');
  });
});
