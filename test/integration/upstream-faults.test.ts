// Upstream faults: every format's proxy (pypi, apt, arch, files) in front of a fault-injecting
// server that passes a real Wharf's content through or breaks it on request: slow but steady
// bodies (longer than the timeout: must succeed), trickling and hanging upstreams, resets
// mid-body, lying Content-Length both ways, 500, an HTML error page answered with 200, wrong
// bytes, documents that do not parse. For each: no 5xx but 502/503/504 with a clear message,
// nothing partial or wrong cached (a later good upstream serves the right bytes), stale
// metadata served when a refresh fails, the server alive. pip installs a cached file through
// a proxy whose upstream answers its project page with a login page.
//
// WHARF_FAULT_TIMEOUT (seconds, default 1.5) sets the proxies' timeout; every delay of the
// fault server scales with it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildDeb, control } from '../helpers/apt.ts';
import { pip } from '../helpers/clients.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { tinyPackage } from './arch-helpers.ts';

const T = Number(process.env.WHARF_FAULT_TIMEOUT ?? 1.5);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- the fault-injecting upstream ------------------------------------------------------------

type Fault = 'slow' | 'trickle' | 'hang' | 'reset' | 'short' | 'long' | '500' | 'html200' | 'wrong' | 'garbage';

interface Rule {
  match: (url: string) => boolean;
  fault: Fault;
  /** Extra headers for the faulty answer (e.g. a digest the upstream announces). */
  headers?: Record<string, string>;
}

const LOGIN_PAGE = '<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Please sign in</h1>'
  + '<form action="/login"><input name="user"></form><a href="/login">Sign in</a> <a href="/help/">Help</a></body></html>\n';

class FaultServer {
  readonly server: Server;
  url = '';
  rule: Rule | null = null;
  /** Requests seen, by URL. */
  seen: string[] = [];
  private readonly upstream: string;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(upstream: string) {
    this.upstream = upstream;
    this.server = createServer((req, res) => void this.handle(req, res).catch(() => res.destroy()));
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    this.seen.push(url);
    const rule = this.rule?.match(url) ? this.rule : null;
    const headers: Record<string, string> = {};
    // A fault replaces the whole answer: it is built from the full content, never from a 304.
    for (const h of rule ? ['accept', 'authorization'] : ['accept', 'if-none-match', 'if-modified-since', 'authorization']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    // The real answer, whole, before any fault: the only delays are the ones injected.
    const up = await fetch(`${this.upstream}${url}`, { headers, redirect: 'manual' });
    const body = Buffer.from(await up.arrayBuffer());
    if (!rule) {
      const out: Record<string, string> = {};
      for (const h of ['content-type', 'etag', 'last-modified', 'location']) {
        const v = up.headers.get(h);
        if (v) out[h] = v;
      }
      res.writeHead(up.status, out);
      res.end(body);
      return;
    }
    const sock = req.socket;
    const type = up.headers.get('content-type') ?? 'application/octet-stream';
    const head = (status: number, length: number | null, ctype = type) => {
      const lines = [`HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Internal Server Error'}`, `Content-Type: ${ctype}`, 'Connection: close'];
      if (length !== null) lines.push(`Content-Length: ${length}`);
      for (const [k, v] of Object.entries(rule.headers ?? {})) lines.push(`${k}: ${v}`);
      return `${lines.join('\r\n')}\r\n\r\n`;
    };
    const write = (b: Buffer | string) => {
      if (!sock.destroyed) sock.write(b);
    };
    switch (rule.fault) {
      case 'slow': {
        // Steady chunks, each well within the timeout, the whole well beyond it.
        write(head(200, body.length));
        const n = 6;
        const size = Math.ceil(body.length / n);
        for (let i = 0; i < n; i++) {
          write(body.subarray(i * size, (i + 1) * size));
          await sleep((T * 1000) / 3);
        }
        sock.end();
        return;
      }
      case 'trickle':
        // A few bytes, then nothing for longer than the timeout, then the rest.
        write(head(200, body.length));
        write(body.subarray(0, Math.ceil(body.length / 4)));
        this.later(T * 2500, () => {
          write(body.subarray(Math.ceil(body.length / 4)));
          sock.end();
        });
        return;
      case 'hang':
        this.later(T * 3000, () => sock.destroy());
        return;
      case 'reset':
        write(head(200, body.length));
        write(body.subarray(0, Math.floor(body.length / 2)));
        this.later(50, () => sock.destroy());
        return;
      case 'short':
        // More bytes declared than sent.
        write(head(200, body.length + 100));
        write(body);
        sock.end();
        return;
      case 'long':
        // Fewer bytes declared than sent.
        write(head(200, body.length - 7));
        write(body);
        sock.end();
        return;
      case '500':
        write(head(500, 22, 'text/html'));
        write('<h1>Server Error</h1>\n');
        sock.end();
        return;
      case 'html200':
        write(head(200, Buffer.byteLength(LOGIN_PAGE), 'text/html; charset=utf-8'));
        write(LOGIN_PAGE);
        sock.end();
        return;
      case 'wrong': {
        const bad = Buffer.from(body);
        bad[Math.floor(bad.length / 2)] ^= 0xff;
        write(head(200, bad.length));
        write(bad);
        sock.end();
        return;
      }
      case 'garbage': {
        const junk = Buffer.from('this is not what you asked for\n'.repeat(8));
        write(head(200, junk.length, type.includes('html') ? 'text/plain' : type));
        write(junk);
        sock.end();
        return;
      }
    }
  }
}

// ---- helpers ---------------------------------------------------------------------------------

interface Got {
  status: number;
  body: Buffer | null;
  text: string;
  headers: Headers;
  /** The transfer broke off after the headers. */
  truncated: boolean;
  ms: number;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Got> {
  const t0 = Date.now();
  const res = await fetch(url, { headers });
  try {
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, body, text: body.toString('utf8'), headers: res.headers, truncated: false, ms: Date.now() - t0 };
  } catch {
    return { status: res.status, body: null, text: '', headers: res.headers, truncated: true, ms: Date.now() - t0 };
  }
}

/** A failed proxy download: a clear 502/503/504 before the headers, or a broken-off transfer after them. */
function assertCleanFailure(r: Got, what: string): void {
  if (r.truncated) {
    assert.equal(r.status, 200, `${what}: a transfer that breaks off began as a 200`);
    return;
  }
  assert.ok([502, 503, 504].includes(r.status), `${what}: answered ${r.status} ${r.text.slice(0, 200)}`);
  assert.match(r.text, /upstream/i, `${what}: the error says what failed`);
}

async function api(server: TestServer, p: string, body?: unknown) {
  const res = await fetch(`${server.url}/-/api/v1${p}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: server.adminAuth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.status < 300, `${p}: ${res.status} ${await res.text()}`);
  return res;
}

async function put(server: TestServer, url: string, data: Uint8Array) {
  const res = await fetch(`${server.url}${url}`, { method: 'PUT', body: data, headers: { authorization: server.adminAuth } });
  assert.ok(res.status === 201 || res.status === 200, `${url}: ${res.status} ${await res.text()}`);
}

// ---- the suite -------------------------------------------------------------------------------

const CONTENT_FAULTS: Fault[] = ['slow', 'trickle', 'hang', 'reset', 'short', 'long', '500', 'html200', 'wrong'];
const METADATA_FAULTS: Fault[] = ['trickle', 'hang', 'reset', 'short', '500', 'html200', 'garbage'];

interface ContentTarget {
  /** URL path at the local server. */
  local: string;
  /** URL path the proxy asks the upstream for. */
  upstream: string;
  /** Path of the file row in the proxy repository. */
  stored: string;
  truth: Buffer;
}

interface Format {
  proxy: string;
  /** One uncached file per content fault. */
  content: Record<string, ContentTarget>;
  /** A metadata document: local and upstream URL paths, and its key in the proxy cache. */
  metadata: { local: string; upstream: string; key: string };
  /** Metadata that was never fetched (no stale copy to fall back on). */
  fresh: { local: string; upstream: string };
  /** Whether a content fault can be checked against a digest (files: only with a digest header). */
  digestHeader?: boolean;
  /** Fetch what the proxy needs before content is checked against its index. */
  warm?: () => Promise<void>;
}

describe('upstream faults: every proxy in front of a misbehaving upstream', () => {
  let upstream: TestServer;
  let local: TestServer;
  let faults: FaultServer;
  let dir: string;
  const formats: Record<string, Format> = {};

  const tmpFiles = async () => (await readdir(path.join(local.data, 'blobs', 'tmp')).catch(() => [])).length;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-faults-'));
    upstream = await startServer();
    faults = new FaultServer(upstream.url);
    await faults.start();
    local = await startServer();
    const proxyOptions = { metadataTtl: 0, negativeTtl: 0, timeout: T };

    // PyPI: one wheel per content fault, plus a second project never fetched.
    await api(upstream, '/repositories', { name: 'py', format: 'pypi' });
    const pyContent: Record<string, ContentTarget> = {};
    for (const [i, fault] of CONTENT_FAULTS.entries()) {
      const version = `1.${i}`;
      const data = buildWheel({ name: 'faulty', version, extraFiles: { 'faulty/blob.bin': Buffer.alloc(4096, i) } });
      const filename = wheelFilename({ name: 'faulty', version });
      const res = await fetch(`${upstream.url}/-/api/v1/repositories/py/upload?filename=${filename}`, {
        method: 'POST', body: data, headers: { authorization: upstream.adminAuth, 'content-type': 'application/octet-stream' },
      });
      assert.equal(res.status, 201, await res.text());
      pyContent[fault] = { local: `/pp/packages/faulty/${filename}`, upstream: `/py/packages/faulty/${filename}`, stored: `packages/faulty/${filename}`, truth: data };
    }
    for (const name of ['never-fetched', 'cached-one']) {
      const data = buildWheel({ name, version: '1.0' });
      const res = await fetch(`${upstream.url}/-/api/v1/repositories/py/upload?filename=${wheelFilename({ name, version: '1.0' })}`, {
        method: 'POST', body: data, headers: { authorization: upstream.adminAuth, 'content-type': 'application/octet-stream' },
      });
      assert.equal(res.status, 201);
    }
    await api(local, '/repositories', { name: 'pp', format: 'pypi', kind: 'proxy', options: { upstream: `${faults.url}/py/simple/`, ...proxyOptions } });
    formats.pypi = {
      proxy: 'pp',
      content: pyContent,
      metadata: { local: '/pp/simple/faulty/', upstream: '/py/simple/faulty/', key: 'simple/faulty/' },
      fresh: { local: '/pp/simple/never-fetched/', upstream: '/py/simple/never-fetched/' },
      warm: async () => assert.equal((await get(`${local.url}/pp/simple/faulty/`)).status, 200),
    };

    // APT: one .deb per content fault.
    await api(upstream, '/repositories', { name: 'deb', format: 'apt' });
    const aptContent: Record<string, ContentTarget> = {};
    for (const [i, fault] of CONTENT_FAULTS.entries()) {
      const name = `faulty${i}`;
      const file = await buildDeb(dir, name, control(name, '1.0-1', 'Section: utils\n'));
      await put(upstream, '/deb/upload/stable/main/', await readFile(file));
      const pool = `pool/main/f/${name}/${name}_1.0-1_amd64.deb`;
      aptContent[fault] = { local: `/dp/${pool}`, upstream: `/deb/${pool}`, stored: pool, truth: await readFile(file) };
    }
    await api(local, '/repositories', { name: 'dp', format: 'apt', kind: 'proxy', options: { upstream: `${faults.url}/deb/`, ...proxyOptions } });
    formats.apt = {
      proxy: 'dp',
      content: aptContent,
      metadata: { local: '/dp/dists/stable/Release', upstream: '/deb/dists/stable/Release', key: 'dists/stable/Release' },
      fresh: { local: '/dp/dists/stable/main/binary-amd64/Packages', upstream: '/deb/dists/stable/main/binary-amd64/Packages' },
      // The pool files are checked against the Packages index the proxy has cached.
      warm: async () => assert.equal((await get(`${local.url}/dp/dists/stable/main/binary-amd64/Packages.xz`)).status, 200),
    };

    // Arch: one package per content fault.
    await api(upstream, '/repositories', { name: 'arch', format: 'arch' });
    const archContent: Record<string, ContentTarget> = {};
    for (const [i, fault] of CONTENT_FAULTS.entries()) {
      const file = await tinyPackage(dir, { name: `faulty${i}`, version: '1.0-1', files: { [`usr/share/faulty${i}`]: 'x'.repeat(3000) + i } });
      const filename = path.basename(file);
      await put(upstream, `/arch/upload/${filename}`, await readFile(file));
      archContent[fault] = { local: `/ap/x86_64/${filename}`, upstream: `/arch/x86_64/${filename}`, stored: `x86_64/${filename}`, truth: await readFile(file) };
    }
    await api(local, '/repositories', { name: 'ap', format: 'arch', kind: 'proxy', options: { upstream: `${faults.url}/arch/`, ...proxyOptions } });
    formats.arch = {
      proxy: 'ap',
      content: archContent,
      metadata: { local: '/ap/x86_64/arch.db', upstream: '/arch/x86_64/arch.db', key: 'db:x86_64/arch.db' },
      fresh: { local: '/ap/x86_64/arch.files', upstream: '/arch/x86_64/arch.files' },
      warm: async () => assert.equal((await get(`${local.url}/ap/x86_64/arch.db`)).status, 200),
    };

    // Files: random (incompressible) tarballs; the upstream here announces their sha256 as
    // Artifactory and Nexus do, the only way a lie in Content-Length can be told.
    await api(upstream, '/repositories', { name: 'raw', format: 'files' });
    const filesContent: Record<string, ContentTarget> = {};
    for (const [i, fault] of CONTENT_FAULTS.entries()) {
      const data = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), createHash('sha512').update(String(i)).digest(), Buffer.alloc(8192, i)]);
      await put(upstream, `/raw/rel/f${i}.tar.gz`, data);
      filesContent[fault] = { local: `/fp/rel/f${i}.tar.gz`, upstream: `/raw/rel/f${i}.tar.gz`, stored: `rel/f${i}.tar.gz`, truth: data };
    }
    await put(upstream, '/raw/other/x.txt', Buffer.from('x\n'));
    await api(local, '/repositories', { name: 'fp', format: 'files', kind: 'proxy', options: { upstream: `${faults.url}/raw/`, ...proxyOptions } });
    formats.files = {
      proxy: 'fp',
      content: filesContent,
      metadata: { local: '/fp/rel/', upstream: '/raw/rel/', key: 'listing:rel/' },
      fresh: { local: '/fp/other/', upstream: '/raw/other/' },
      digestHeader: true,
    };
  });

  after(async () => {
    await local?.close();
    await faults?.stop();
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const format of ['pypi', 'apt', 'arch', 'files']) {
    describe(`${format} proxy`, () => {
      for (const fault of CONTENT_FAULTS) {
        it(`content, ${fault}: ${fault === 'slow' ? 'a slow steady download longer than the timeout succeeds' : 'fails cleanly, nothing cached, the next good fetch is right'}`, async () => {
          const f = formats[format];
          await f.warm?.();
          const t = f.content[fault];
          const repo = local.wharf.requireRepo(f.proxy);
          const headers = f.digestHeader ? { 'X-Checksum-Sha256': sha256(t.truth) } : undefined;
          faults.rule = { match: (u) => u === t.upstream, fault, headers };
          let r: Got;
          try {
            r = await get(`${local.url}${t.local}`);
          } finally {
            faults.rule = null;
          }
          if (fault === 'slow') {
            assert.equal(r.status, 200, r.text);
            assert.equal(sha256(r.body!), sha256(t.truth), 'the right bytes');
            // The first client is done once the bytes are verified; storing them follows.
            await local.wharf.contentCache.settled();
          } else {
            assertCleanFailure(r, `${format} ${fault}`);
            // Settled: the failed fetch left no file row and no staged bytes behind.
            await sleep(100);
            assert.equal(await local.wharf.store.getFileByPath(repo.id, t.stored), undefined, 'nothing cached');
          }
          assert.equal(await tmpFiles(), 0, 'no staged bytes left');
          const good = await get(`${local.url}${t.local}`);
          assert.equal(good.status, 200, good.text);
          assert.equal(sha256(good.body!), sha256(t.truth), 'a later good upstream serves the right bytes');
          await local.wharf.contentCache.settled();
          assert.equal((await local.wharf.store.getFileByPath(repo.id, t.stored))?.sha256, sha256(t.truth), 'the cache holds the right file');
          assert.equal((await get(`${local.url}/-/health`)).status, 200);
        });
      }

      // A files listing is any HTML page: a login page answered with 200 cannot be told from one.
      for (const fault of METADATA_FAULTS.filter((x) => !(format === 'files' && x === 'html200'))) {
        it(`metadata, ${fault}: the last good copy is served stale; never cached; unfetched metadata answers 502`, async () => {
          const f = formats[format];
          const repo = local.wharf.requireRepo(f.proxy);
          const good = await get(`${local.url}${f.metadata.local}`);
          assert.equal(good.status, 200, good.text);
          assert.equal(good.headers.get('x-wharf-stale'), null);
          const before = await local.wharf.proxyCache.get(repo.id, f.metadata.key);
          assert.ok(before?.body, 'the good copy is cached');
          faults.rule = { match: (u) => u === f.metadata.upstream || u === f.fresh.upstream, fault };
          let stale: Got;
          let fresh: Got;
          try {
            stale = await get(`${local.url}${f.metadata.local}`);
            fresh = await get(`${local.url}${f.fresh.local}`);
          } finally {
            faults.rule = null;
          }
          assert.equal(stale.status, 200, `${format} ${fault}: ${stale.status} ${stale.text.slice(0, 300)}`);
          assert.equal(stale.headers.get('x-wharf-stale'), 'true', `${format} ${fault}: served stale`);
          if (format === 'pypi') {
            // A stale PyPI page lists the files that are cached.
            for (const t of Object.values(f.content)) {
              if (await local.wharf.store.getFileByPath(repo.id, t.stored)) assert.ok(stale.text.includes(path.basename(t.stored)), `${path.basename(t.stored)} is listed`);
            }
          } else {
            assert.equal(sha256(stale.body!), sha256(good.body!), 'the last good copy');
          }
          const afterFault = await local.wharf.proxyCache.get(repo.id, f.metadata.key);

          assert.deepEqual(Buffer.from(afterFault!.body!), Buffer.from(before.body), 'the cached copy was not replaced');
          assertCleanFailure(fresh, `${format} ${fault} (never fetched)`);
          assert.equal((await get(`${local.url}/-/health`)).status, 200);
          // The upstream back: fresh again.
          const again = await get(`${local.url}${f.metadata.local}`);
          assert.equal(again.status, 200);
          assert.equal(again.headers.get('x-wharf-stale'), null);
        });
      }
    });
  }

  it('pip installs a cached wheel through a PyPI proxy whose upstream answers its page with a login page', async () => {
    const target = await mkdtemp(path.join(tmpdir(), 'wharf-faults-pip-'));
    const first = await pip(['install', '--index-url', `${local.url}/pp/simple/`, '--target', target, 'cached-one']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    faults.rule = { match: (u) => u.startsWith('/py/'), fault: 'html200' };
    try {
      const page = await get(`${local.url}/pp/simple/cached-one/`);
      assert.equal(page.headers.get('x-wharf-stale'), 'true');
      assert.match(page.text, /cached_one-1\.0-py3-none-any\.whl/);
      const again = await mkdtemp(path.join(tmpdir(), 'wharf-faults-pip-'));
      const r = await pip(['install', '--index-url', `${local.url}/pp/simple/`, '--target', again, 'cached-one']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.ok((await readdir(again)).includes('cached_one-1.0.dist-info'));
    } finally {
      faults.rule = null;
    }
  });

  it('after repeated failures the breaker answers from the cache at once, and asks the upstream again later', async () => {
    await api(local, '/repositories', { name: 'brk', format: 'files', kind: 'proxy', options: { upstream: `${faults.url}/raw/`, metadataTtl: 0, timeout: T, maxFails: 2, failTimeout: 2 * T } });
    assert.equal((await get(`${local.url}/brk/rel/`)).status, 200);
    faults.rule = { match: (u) => u.startsWith('/raw/'), fault: 'hang' };
    try {
      for (let i = 0; i < 2; i++) {
        const r = await get(`${local.url}/brk/rel/`);
        assert.equal(r.headers.get('x-wharf-stale'), 'true');
        assert.ok(r.ms >= T * 1000 * 0.8, `waited for the timeout (${r.ms} ms)`);
      }
      const asked = faults.seen.length;
      const quick = await get(`${local.url}/brk/rel/`);
      assert.equal(quick.headers.get('x-wharf-stale'), 'true');
      assert.ok(quick.ms < T * 1000 * 0.5, `answered at once (${quick.ms} ms)`);
      const miss = await get(`${local.url}/brk/rel/f0.tar.gz`);
      assert.equal(miss.status, 502);
      assert.match(miss.text, /upstream/);
      assert.ok(miss.ms < T * 1000 * 0.5, `a miss fails at once (${miss.ms} ms)`);
      assert.equal(faults.seen.length, asked, 'the upstream was not asked while the breaker is open');
    } finally {
      faults.rule = null;
    }
    await sleep(2 * T * 1000 + 200);
    const back = await get(`${local.url}/brk/rel/`);
    assert.equal(back.status, 200);
    assert.equal(back.headers.get('x-wharf-stale'), null, 'asked again after failTimeout');
  });
});

