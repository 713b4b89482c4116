// The `wharf` command as people get it: `npx wharf` and `npm run wharf` in a clone (no build
// step; paths from where they typed), bin/wharf.js on an old system Node.js, and the npm
// package installed globally with `npm install -g`, on this machine's system Node.js.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run, type RunResult } from '../helpers/clients.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { databaseEnv } from '../helpers/test-database.ts';

const ROOT = join(import.meta.dirname, '../..');

/** The caller's environment without npm's variables and without node_modules/.bin on PATH. */
function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('npm_') && !k.startsWith('WHARF_') && k !== 'INIT_CWD') env[k] = v;
  env.PATH = (process.env.PATH ?? '').split(delimiter).filter((p) => !p.includes('node_modules')).join(delimiter);
  return { ...env, ...extra };
}

/** The first `node` on the plain PATH: the system's (Node 20 on the machines this runs on). */
function systemNode(): { path: string } | null {
  for (const dir of (plainEnv().PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, 'node'), constants.X_OK);
    } catch {
      continue;
    }
    return { path: join(dir, 'node') };
  }
  return null;
}

async function nodeMajor(node: string): Promise<number> {
  const r = await run(node, ['-p', 'process.versions.node.split(".")[0]'], { env: plainEnv() });
  return Number(r.stdout.trim());
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function ok(r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}\n${r.stdout}`);
}

describe('wharf in a clone', () => {
  let srv: TestServer;
  let token: string;
  let work: string;
  before(async () => {
    srv = await startServer();
    const res = await fetch(`${srv.url}/-/api/v1/tokens`, { method: 'POST', headers: { authorization: srv.adminAuth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 't', permission: 'write' }) });
    token = ((await res.json()) as { token: string }).token;
    work = await mkdtemp(join(tmpdir(), 'wharf-cmd-'));
  });
  after(async () => {
    await srv.close();
    await rm(work, { recursive: true, force: true });
  });

  it('npx wharf runs without a build step, from a subdirectory too, and its help is accurate', async () => {
    const version = await run('npx', ['--offline', 'wharf', '--version'], { cwd: join(ROOT, 'test'), env: plainEnv() });
    ok(version, 'npx wharf --version');
    assert.equal(version.stdout.trim(), JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version);
    // engines says >=24 (the project's rule), so npm on an older system node may warn EBADENGINE; it must still run.
    assert.doesNotMatch(version.stderr, /ERR_MODULE_NOT_FOUND/);
    const help = await run('npx', ['--offline', 'wharf', 'serve', '--help'], { cwd: ROOT, env: plainEnv() });
    ok(help, 'wharf serve --help');
    for (const flag of ['--host', '--port', '--data', '--config', '--log-level', '--log-format', '--trusted-proxies', '--blobs']) assert.match(help.stdout, new RegExp(`${flag} `), flag);
  });

  it('npm run wharf resolves file arguments against the directory it was typed in', async () => {
    const file = wheelFilename({ name: 'from-cwd', version: '1.0' });
    await writeFile(join(work, file), buildWheel({ name: 'from-cwd', version: '1.0' }));
    // `npm --prefix` runs the clone's script while this process stays in `work`, as a user
    // typing `npm run wharf` there would (npm moves to the clone's root).
    const up = await run('npm', ['--prefix', ROOT, 'run', '-s', 'wharf', '--', 'upload', 'pypi', file], { cwd: work, env: plainEnv({ WHARF_URL: srv.url, WHARF_TOKEN: token }) });
    ok(up, 'upload through npm run');
    assert.match(up.stdout, /uploaded: .*from_cwd-1\.0/);
    const path = /uploaded: ([^,\s]+)/.exec(up.stdout)![1];
    const down = await run('npm', ['--prefix', ROOT, 'run', '-s', 'wharf', '--', 'download', 'pypi', path, '-o', 'again.whl'], { cwd: work, env: plainEnv({ WHARF_URL: srv.url, WHARF_TOKEN: token }) });
    ok(down, 'download through npm run');
    assert.ok((await readdir(work)).includes('again.whl'), 'downloaded into the directory it was typed in');
  });

  it('bin/wharf.js on an old system Node.js: re-runs on the Node.js 24 in node_modules, or refuses in one line', async () => {
    const sys = systemNode();
    assert.ok(sys, 'a node on PATH');
    const major = await nodeMajor(sys.path);
    const r = await run(sys.path, [join(ROOT, 'bin/wharf.js'), '--version'], { env: plainEnv() });
    ok(r, `bin/wharf.js on Node ${major}`);
    // A copy of the bin without node_modules beside it: nothing to re-run on.
    const lonely = join(work, 'lonely');
    await mkdir(join(lonely, 'bin'), { recursive: true });
    for (const f of ['wharf.js', 'launch.js']) await copyFile(join(ROOT, 'bin', f), join(lonely, 'bin', f));
    await writeFile(join(lonely, 'package.json'), '{"type":"module"}');
    const refused = await run(sys.path, [join(lonely, 'bin/wharf.js'), '--version'], { env: plainEnv() });
    if (major < 24) {
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^wharf: needs Node\.js 24 or newer and this is Node\.js 2\d\.[\d.]+: install Node\.js 24 [^\n]*\n$/);
    } else {
      assert.match(refused.stderr, /^wharf: neither .* exists/, 'new enough, but nothing to run');
    }
  });
});

describe('the npm package, installed with npm install -g', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-pkg-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('npm pack, npm install -g --prefix, then wharf --version and wharf serve answer on the system Node.js', { timeout: 300_000 }, async () => {
    const pack = await run('npm', ['pack', '--pack-destination', dir], { cwd: ROOT, env: plainEnv(), timeoutMs: 240_000 });
    ok(pack, 'npm pack');
    const tarball = (await readdir(dir)).find((f) => /^wharf-.*\.tgz$/.test(f));
    assert.ok(tarball, pack.stdout);
    const prefix = join(dir, 'prefix');
    // From npm's cache where it can; the registry only for what the cache lacks.
    const install = await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(dir, tarball)], { cwd: dir, env: plainEnv(), timeoutMs: 240_000 });
    ok(install, 'npm install -g');
    const bin = join(prefix, 'bin', 'wharf');
    const sys = systemNode()!;
    const version = await run(bin, ['--version'], { env: plainEnv() });
    ok(version, `wharf --version on Node ${await nodeMajor(sys.path)}`);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);

    const port = await freePort();
    const child = spawn(bin, ['serve', '--port', String(port), '--data', join(dir, 'data'), '--log-format', 'json'], { env: plainEnv({ WHARF_ADMIN_PASSWORD: 'pkg-test-pw', ...(await databaseEnv(join(dir, 'data'))) }), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let health: unknown = null;
    for (let i = 0; i < 300 && health === null; i++) {
      health = await fetch(`http://127.0.0.1:${port}/-/health`).then((r) => r.json(), () => null);
      if (health === null) await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(health, { status: 'ok', version: version.stdout.trim() }, output);
    // SIGTERM reaches the server, also through the re-run on the bundled Node.js: none is left behind.
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.equal(await fetch(`http://127.0.0.1:${port}/-/health`).then(() => 'up', () => 'down'), 'down');
  });
});
