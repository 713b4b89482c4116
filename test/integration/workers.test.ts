// `wharf serve --workers 2` on PostgreSQL (docs/scale-out.md, "Workers on one machine"):
// - both workers answer on the one port (the pids in the request log lines);
// - a twine upload is installed by pip through the port at once, whichever worker answers;
// - kill -9 of a worker leaves the server answering, and the primary starts a replacement;
// - SIGTERM to the primary ends it with 0, every worker gone;
// - on SQLite, --workers 2 is refused with a message naming why and what to do.
// It starts its own PostgreSQL in either pass of the suite, so it runs in the SQLite pass only.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pip, twineUpload } from '../helpers/clients.ts';
import { freshPostgresUrl, sharedPostgres } from '../helpers/engines.ts';
import { freePort } from '../helpers/ports.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { onPostgres } from '../helpers/test-database.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const NODE = path.join(ROOT, 'node_modules/.bin/node');
const MAIN = path.join(ROOT, 'src/cli/main.ts');
const PASSWORD = 'workers-admin-pw';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface LogLine { level?: number; msg?: string; pid?: number; slot?: number; role?: string; req?: { url?: string }; res?: { statusCode?: number }; workers?: Record<string, number> }

/** The environment of a child `wharf serve`: nothing of the suite's own database choice. */
function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, WHARF_ADMIN_PASSWORD: PASSWORD, ...extra };
  for (const k of ['WHARF_DATABASE_URL', 'WHARF_WORKERS', 'WHARF_CONFIG', 'WHARF_PORT', 'WHARF_DATA']) if (!(k in extra)) delete env[k];
  return env;
}

/** GET over a connection of its own (no keep-alive), so the primary hands each to a worker in turn. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('wharf serve --workers 2 on PostgreSQL', { timeout: 180_000, skip: onPostgres && 'starts its own PostgreSQL: run in the SQLite pass' }, () => {
  let dir: string;
  let child: ChildProcess;
  let base: string;
  let out = '';
  let err = '';
  const lines = (): LogLine[] => out.split('\n').flatMap((l) => {
    try {
      return l.startsWith('{') ? [JSON.parse(l) as LogLine] : [];
    } catch {
      return [];
    }
  });
  const readyWorkers = () => lines().filter((l) => l.msg === 'worker ready');
  /** The pids that answered the requests whose URL contains `tag`. */
  const answeredBy = (tag: string) => new Set(lines().filter((l) => l.msg === 'request' && l.req?.url?.includes(tag)).map((l) => l.pid));
  let pids: number[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-workers-it-'));
    const database = await freshPostgresUrl();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(NODE, [MAIN, 'serve', '--workers', '2', '--data', path.join(dir, 'data'), '--host', '127.0.0.1', '--port', String(port), '--log-level', 'info', '--log-format', 'json', '--database', database], {
      cwd: ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (out += d));
    child.stderr!.on('data', (d: Buffer) => (err += d));
    const ready = await until('the primary to say it is ready', () => {
      if (child.exitCode !== null) throw new Error(`wharf serve --workers 2 exited ${child.exitCode}:\n${err}\n${out.slice(-4000)}`);
      return lines().find((l) => l.msg === 'wharf is ready' && l.role === 'primary');
    }, 90_000);
    pids = Object.values(ready.workers ?? {});
    assert.equal(pids.length, 2, JSON.stringify(ready));
  });
  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    for (const pid of lines().filter((l) => l.msg === 'worker started').map((l) => l.pid!)) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await (await sharedPostgres()).close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('both workers answer on the one port', async () => {
    for (let i = 0; i < 12; i++) assert.equal((await get(`${base}/pypi/simple/?probe-both-${i}`)).status, 200);
    const by = await until('the request lines', () => {
      const s = answeredBy('probe-both-');
      return s.size === 2 ? s : undefined;
    }, 5_000);
    assert.deepEqual([...by].sort(), [...pids].sort());
  });

  it('an upload through the port is installed by pip at once, and listed by every worker', async () => {
    const file = path.join(dir, wheelFilename({ name: 'worker-lib', version: '1.0' }));
    await writeFile(file, buildWheel({ name: 'worker-lib', version: '1.0' }));
    const up = await twineUpload(`${base}/pypi/`, 'admin', PASSWORD, [file]);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    const pipRun = await pip(['install', '--index-url', `${base}/pypi/simple/`, '--target', path.join(dir, 'target'), 'worker-lib']);
    assert.equal(pipRun.code, 0, pipRun.stdout + pipRun.stderr);
    for (let i = 0; i < 8; i++) {
      const page = await get(`${base}/pypi/simple/worker-lib/?probe-listed-${i}`);
      assert.equal(page.status, 200);
      assert.ok(page.body.includes(path.basename(file)), page.body);
    }
    assert.equal((await until('the request lines', () => (answeredBy('probe-listed-').size === 2 ? true : undefined), 5_000)), true);
  });

  it('kill -9 of a worker: the server keeps answering and the primary starts a replacement', async () => {
    const [victim, survivor] = pids;
    process.kill(victim, 'SIGKILL');
    await until('the worker to die', () => !alive(victim) || undefined, 5_000);
    for (let i = 0; i < 6; i++) assert.equal((await get(`${base}/pypi/simple/worker-lib/?probe-after-kill-${i}`)).status, 200);
    const replacement = await until('a replacement worker', () => readyWorkers().map((l) => l.pid!).find((p) => !pids.includes(p)), 60_000);
    assert.ok(lines().some((l) => l.msg === 'worker died; starting a replacement' && l.pid === victim), 'the death is logged');
    // The replacement serves: some fresh connection reaches it.
    await until('the replacement to answer', async () => {
      for (let i = 0; i < 4; i++) assert.equal((await get(`${base}/pypi/simple/worker-lib/?probe-replaced-${i}`)).status, 200);
      await sleep(100);
      return answeredBy('probe-replaced-').has(replacement) || undefined;
    }, 10_000);
    pids = [survivor, replacement];
  });

  it('SIGTERM to the primary stops every worker and exits 0', async () => {
    const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    assert.equal(signal, null);
    assert.equal(code, 0, err);
    await until('every worker to be gone', () => (pids.every((p) => !alive(p)) ? true : undefined), 5_000);
    // Nothing went wrong along the way but the death this test caused.
    const errors = lines().filter((l) => (l.level ?? 0) >= 50 && l.msg !== 'worker died; starting a replacement');
    assert.deepEqual(errors, []);
    assert.equal(lines().filter((l) => l.msg === 'shutting down').length, 2, 'each live worker shut down gracefully');
  });
});

describe('--workers on SQLite', { skip: onPostgres && 'the SQLite pass checks it' }, () => {
  it('is refused, naming why and what to do', async () => {
    const data = await mkdtemp(path.join(tmpdir(), 'wharf-workers-sqlite-'));
    try {
      for (const [args, env] of [[['--workers', '2'], {}], [[], { WHARF_WORKERS: '2' }]] as const) {
        const child = spawn(NODE, [MAIN, 'serve', '--data', data, '--port', '0', ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr!.on('data', (d: Buffer) => (stderr += d));
        const [code] = await once(child, 'exit') as [number | null];
        assert.equal(code, 2, stderr);
        assert.match(stderr, /needs PostgreSQL/);
        assert.match(stderr, /local to one process/);
        assert.match(stderr, /static tree/);
      }
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  });
});
