// Downloads from an upstream leave buffers outside V8's heap (the socket's reads and
// node:http's copies of the body) that only a collection frees. Without a young collection
// to free them, V8 counted them towards its old generation and ran a full mark-compact every
// few MiB downloaded: most of a cold proxy fetch's CPU.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { test } from 'node:test';
import type { Repository } from '../../../src/core/model.ts';
import { proxyOptionsOf } from '../../../src/core/proxy/options.ts';
import { Upstreams } from '../../../src/core/proxy/upstream.ts';
import { YoungCollector } from '../../../src/core/proxy/young-gc.ts';

function gcCounter(): { major: () => number; minor: () => number; stop: () => void } {
  let major = 0;
  let minor = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return { major: () => major, minor: () => minor, stop: () => obs.disconnect() };
}

const settle = () => new Promise((r) => setTimeout(r, 50));

test('a young collection is asked for once per everyBytes downloaded, and runs', async () => {
  const young = new YoungCollector(1024 * 1024);
  const gcs = gcCounter();
  try {
    for (let i = 0; i < 16; i++) young.downloaded(64 * 1024 - 1);
    assert.equal(young.runs, 0, 'not before everyBytes');
    young.downloaded(16);
    assert.equal(young.runs, 1);
    await settle();
    assert.ok(gcs.minor() >= 1, 'a young collection ran');
    for (let i = 0; i < 32; i++) young.downloaded(64 * 1024);
    assert.equal(young.runs, 3);
    assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'gc() is not exposed to the process');
  } finally {
    gcs.stop();
  }
});

test('downloading 128 MiB from an upstream runs no full collection for the buffers it leaves', async () => {
  const file = randomBytes(1024 * 1024);
  const server = createServer((_req, res) => res.writeHead(200, { 'content-length': String(file.length) }).end(file));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const upstreams = new Upstreams();
  const repo: Repository = { id: 1, name: 'proxy', format: 'files', kind: 'proxy', publicRead: true, options: {}, createdAt: '' };
  const opts = proxyOptionsOf({ upstream: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` });
  // Warm up (first connection, compiled code), then count.
  for (let i = 0; i < 4; i++) for await (const _ of (await upstreams.download(repo, opts, `w${i}`)).body!);
  await settle();
  const gcs = gcCounter();
  try {
    let bytes = 0;
    for (let i = 0; i < 128; i++) {
      for await (const c of (await upstreams.download(repo, opts, `f${i}`)).body!) bytes += (c as Buffer).length;
    }
    await settle();
    assert.equal(bytes, 128 * file.length);
    // Before: a mark-compact every 4-8 MiB. A stray one may still come from the test runner.
    assert.ok(gcs.major() <= 2, `${gcs.major()} full collections for 128 MiB downloaded (young: ${gcs.minor()})`);
  } finally {
    gcs.stop();
    server.closeAllConnections();
    server.close();
  }
});
