// Mistakes an operator or a user can make at start-up and in the CLI each answer one line
// that says what to do, and no stack trace. The CLI runs as a child process, as people run it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';
import { databaseEnv } from '../helpers/test-database.ts';

const NODE = process.execPath;
const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

interface Result { code: number | null; stdout: string; stderr: string }

/** The CLI with only the WHARF_* variables given (none inherited from the caller). */
async function wharf(args: string[], opts: { env?: Record<string, string>; uid?: number; cwd?: string; timeoutMs?: number; until?: RegExp } = {}): Promise<Result> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('WHARF_') || k.startsWith('npm_') || k === 'INIT_CWD') delete env[k];
  // The data directory's database (WHARF_TEST_DATABASE=postgres), as the test harness gives every server.
  const data = args.indexOf('--data');
  if (data >= 0 && args[data + 1]) Object.assign(env, await databaseEnv(args[data + 1]));
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [MAIN, ...args], { env: { ...env, ...opts.env }, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      if (opts.until?.test(stdout)) child.kill('SIGTERM');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    // A server that did start would run forever: the test then fails on its output.
    const timer = setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Exactly one line on stderr, starting with `wharf: `, no stack frames; a non-zero exit. */
function assertOneLine(r: Result, re: RegExp): void {
  const shown = `exit ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout}`;
  assert.notEqual(r.code, 0, shown);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, shown);
  assert.match(lines[0], /^wharf: /, shown);
  assert.match(lines[0], re, shown);
  assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at /, shown);
}

describe('start-up failures are one line', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-operr-'));
    await chmod(dir, 0o755);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a port in use: names the port and suggests --port', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await wharf(['serve', '--data', join(dir, 'port'), '--port', String(port), '--log-format', 'json'], { env: { WHARF_ADMIN_PASSWORD: 'pw-port-test' } });
      assertOneLine(r, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use.*--port`));
    } finally {
      blocker.close();
    }
  });

  it('a data directory that cannot be written: names the path and the permission', async () => {
    const data = join(dir, 'readonly');
    if (process.getuid?.() === 0) {
      // root may write anywhere: run the server as nobody over a directory root owns.
      const r = await wharf(['serve', '--data', dir, '--port', '0'], { uid: 65534 });
      assertOneLine(r, new RegExp(`data directory ${dir} is not writable by .*uid 65534.*rwx`));
    } else {
      await writeFile(join(dir, 'x'), '');
      await chmod(dir, 0o555);
      const r = await wharf(['serve', '--data', data, '--port', '0']);
      await chmod(dir, 0o755);
      assertOneLine(r, /is not writable by .*rwx/);
    }
  });

  it('a data path below a file: names the file', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    const r = await wharf(['serve', '--data', join(file, 'data'), '--port', '0']);
    assertOneLine(r, new RegExp(`${file} is a file, not a directory.*--data`));
  });

  it('a bad repository entry in the config file: named by its JSON path, at any depth', async () => {
    const cases: [unknown[], RegExp][] = [
      [[{ name: 'a', format: 'pypi' }, { name: 'b', format: 'files' }, { name: 'c', format: 'pypi', optons: { allowOverwrite: true } }], /repositories\[2\]\.optons: unknown key/],
      [[{ name: 'a', format: 'pypi', options: { allowOverwrite: true, listings: true } }], /repositories\[0\]\.options\.listings: unknown option/],
      [[{ name: 'a', format: 'apt', options: { suites: { stable: { components: ['main'], colour: 'red' } } } }], /repositories\[0\]\.options\.suites\.stable\.colour: unknown option/],
      [[{ name: 'a', format: 'debian' }], /repositories\[0\]\.format: unknown format "debian"; known: pypi, files, arch, apt/],
    ];
    for (const [i, [repositories, re]] of cases.entries()) {
      const file = join(dir, `config-${i}.json`);
      await writeFile(file, JSON.stringify({ repositories }));
      const r = await wharf(['serve', '--config', file, '--data', join(dir, `cfg-data-${i}`), '--port', '0', '--log-format', 'json']);
      assertOneLine(r, re);
    }
  });

  it('a bad log level or format', async () => {
    assertOneLine(await wharf(['serve', '--data', join(dir, 'lvl'), '--port', '0', '--log-level', 'loud']), /--log-level must be one of .*info/);
    assertOneLine(await wharf(['serve', '--data', join(dir, 'lvl'), '--port', '0'], { env: { WHARF_LOG_FORMAT: 'xml' } }), /WHARF_LOG_FORMAT must be one of auto, json, pretty/);
  });

  it('says that WHARF_ADMIN_PASSWORD is ignored once admin exists', async () => {
    const data = join(dir, 'twice');
    const first = await wharf(['serve', '--data', data, '--port', '0', '--log-format', 'json'], { env: { WHARF_ADMIN_PASSWORD: 'first-pw-1' }, until: /wharf is ready/ });
    assert.match(first.stdout, /wharf is ready/, first.stderr);
    assert.doesNotMatch(first.stdout, /is ignored/);
    const second = await wharf(['serve', '--data', data, '--port', '0', '--log-format', 'json'], { env: { WHARF_ADMIN_PASSWORD: 'change-me' }, until: /wharf is ready/ });
    assert.match(second.stdout, /"level":40.*WHARF_ADMIN_PASSWORD \(adminPassword\) is ignored: users already exist/, second.stdout);
    assert.doesNotMatch(second.stdout, /change-me/, 'the password itself is not logged');
  });
});

describe('CLI failures are one line', () => {
  let srv: TestServer;
  let token: string;
  before(async () => {
    srv = await startServer();
    const res = await fetch(`${srv.url}/-/api/v1/tokens`, { method: 'POST', headers: { authorization: srv.adminAuth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 't', permission: 'admin' }) });
    assert.equal(res.status, 201, await res.clone().text());
    token = ((await res.json()) as { token: string }).token;
  });
  after(() => srv.close());

  it('no credentials: says which variables to set', async () => {
    const r = await wharf(['user', 'list'], { env: { WHARF_URL: srv.url } });
    assertOneLine(r, /needs credentials: set WHARF_TOKEN \(or --token\), or WHARF_USER and WHARF_PASSWORD/);
  });

  it('WHARF_USER without WHARF_PASSWORD', async () => {
    const r = await wharf(['repo', 'list'], { env: { WHARF_URL: srv.url, WHARF_USER: 'admin' } });
    assertOneLine(r, /WHARF_USER is set but WHARF_PASSWORD is not/);
  });

  it('a wrong password: says which credentials were refused', async () => {
    const r = await wharf(['user', 'list'], { env: { WHARF_URL: srv.url, WHARF_USER: 'admin', WHARF_PASSWORD: 'wrong' } });
    assertOneLine(r, /\(401 UNAUTHORIZED\).*WHARF_USER and WHARF_PASSWORD/);
  });

  it('a token where a password login is needed: says to use WHARF_USER and WHARF_PASSWORD', async () => {
    const r = await wharf(['token', 'create', '--name', 'x'], { env: { WHARF_URL: srv.url, WHARF_TOKEN: token } });
    assertOneLine(r, /needs a password login.*set WHARF_USER and WHARF_PASSWORD and unset WHARF_TOKEN/);
    const ok = await wharf(['user', 'list'], { env: { WHARF_URL: srv.url, WHARF_USER: 'admin', WHARF_PASSWORD: ADMIN_PASSWORD } });
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('a server that is not there: names the URL', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    await new Promise((r) => s.close(r));
    const r = await wharf(['repo', 'list'], { env: { WHARF_URL: `http://127.0.0.1:${port}` } });
    assertOneLine(r, new RegExp(`cannot reach the server at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\).*WHARF_URL`));
    assertOneLine(await wharf(['repo', 'list'], { env: { WHARF_URL: 'localhost:8080' } }), /WHARF_URL .*is not an http:\/\/ or https:\/\/ URL/);
  });

  it('a file to upload that does not exist: names it', async () => {
    const r = await wharf(['upload', 'pypi', 'nothere-1.0.tar.gz'], { env: { WHARF_URL: srv.url, WHARF_TOKEN: token } });
    assertOneLine(r, /nothere-1\.0\.tar\.gz: no such file/);
  });
});
