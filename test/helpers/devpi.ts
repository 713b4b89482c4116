// devpi-server run from its public source (not a Debian package; PyPI is out of reach) on
// Debian's Python, for tests that need what devpi itself writes (`devpi-export`). The venv is
// built once per devpi + packaging_legacy commit into TOOLS_CACHE and reused by later runs.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';
import { missingSources, sourceGitDir, TOOLS_CACHE, unpackedSource } from './fetched-source.ts';

const run = promisify(execFile);

export const DEVPI_REPOS = ['devpi/devpi', 'di/packaging_legacy'];
/** Debian's Python modules devpi-server imports (scripts/install-test-deps.sh installs them). */
export const DEVPI_PY_MODULES = ['pyramid', 'repoze.lru', 'strictyaml', 'ruamel.yaml', 'argon2', 'attr', 'httpx', 'itsdangerous', 'lazy', 'platformdirs', 'pluggy', 'py', 'passlib', 'waitress', 'defusedxml', 'requests'];

/** Why a devpi test must skip, or false. */
export async function devpiMissing(): Promise<string | false> {
  const m = missingSources(...DEVPI_REPOS);
  if (m) return m;
  try {
    await run('/usr/bin/python3', ['-c', `import ${DEVPI_PY_MODULES.join(', ')}, ensurepip`]);
  } catch (e) {
    return `devpi-server needs Debian's Python modules (scripts/install-test-deps.sh): ${String((e as { stderr?: string }).stderr ?? e).trim().split('\n').pop()}`;
  }
  return false;
}

function commitOf(repo: string): string {
  const git = sourceGitDir(repo)!;
  return execFileSync('git', ['--git-dir', git, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim().slice(0, 12);
}

/** The venv with devpi-server, built once per pair of commits; returns its folder. */
export async function devpiVenv(): Promise<string> {
  const venv = join(TOOLS_CACHE, 'venv', `devpi-${commitOf('devpi/devpi')}-${commitOf('di/packaging_legacy')}`);
  const done = join(venv, '.complete');
  if (existsSync(done)) return venv;
  // A venv's scripts name its own folder, so it is built in place; a lock folder keeps two
  // test processes from building it at once (the other waits for the mark of completion).
  const lock = `${venv}.lock`;
  mkdirSync(dirname(venv), { recursive: true });
  try {
    mkdirSync(lock);
  } catch {
    const deadline = Date.now() + 300_000;
    while (!existsSync(done)) {
      if (Date.now() > deadline) throw new Error(`${lock} is held and ${venv} never completed: remove the lock`);
      await new Promise((r) => setTimeout(r, 500));
    }
    return venv;
  }
  try {
    const devpi = unpackedSource('devpi/devpi', ['common', 'server', 'client/testing']);
    const legacy = unpackedSource('di/packaging_legacy');
    rmSync(venv, { recursive: true, force: true });
    // The unpacked tree is shared: build from a private copy whose pyproject Debian's
    // setuptools (66) accepts (it rejects PEP 639 license strings).
    const src = join(lock, 'src');
    await run('/bin/sh', ['-c', 'mkdir -p "$1" && cp -r "$0"/. "$1"/', devpi, src]);
    await run('sed', ['-i', '-e', 's/^license = "\\(.*\\)"$/license = {text = "\\1"}/', '-e', '/^license-files = /d', join(src, 'server/pyproject.toml'), join(src, 'common/pyproject.toml')]);
    await run('/usr/bin/python3', ['-m', 'venv', '--system-site-packages', venv]);
    await run(join(venv, 'bin/pip'), ['--isolated', '--disable-pip-version-check', 'install', '--no-deps', '--no-build-isolation', '--no-index', legacy, join(src, 'common'), join(src, 'server')], {
      env: { ...process.env, PIP_CONFIG_FILE: '/dev/null' },
      maxBuffer: 64 * 1024 * 1024,
    });
    writeFileSync(done, '');
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return venv;
}

export interface Devpi {
  url: string;
  venv: string;
  serverdir: string;
  stop(): Promise<void>;
}

/** A fresh devpi-server (root's password given, no root/pypi mirror) on a free port. */
export async function startDevpi(venv: string, serverdir: string, rootPassword: string): Promise<Devpi> {
  await run(join(venv, 'bin/devpi-init'), ['--serverdir', serverdir, '--root-passwd', rootPassword, '--no-root-pypi']);
  const port = await freePort();
  let log = '';
  // devpi derives its login secret with argon2 at start (m=100 MiB by default): 40 s on 2 busy
  // cores. The cheapest parameters make it ~1 ms; users' password hashes keep devpi's defaults.
  const cheap = ['--argon2-memory-cost', '8', '--argon2-time-cost', '1', '--argon2-parallelism', '1'];
  const child: ChildProcess = spawn(join(venv, 'bin/devpi-server'), ['--serverdir', serverdir, '--host', '127.0.0.1', '--port', String(port), ...cheap], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`devpi-server exited with ${child.exitCode}:\n${log.slice(-4000)}`);
    try {
      const res = await fetch(`${url}/+api`, { headers: { accept: 'application/json' } });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`devpi-server did not answer:\n${log.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    venv,
    serverdir,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** devpi's JSON API as `user` (a login first gives a token devpi takes as X-Devpi-Auth). */
export class DevpiApi {
  private auth?: string;
  private readonly url: string;
  constructor(url: string) {
    this.url = url;
  }
  async login(user: string, password: string): Promise<void> {
    const res = await this.call('POST', '/+login', { user, password });
    const r = res as { result: { password: string } };
    this.auth = Buffer.from(`${user}:${r.result.password}`).toString('base64');
  }
  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json' };
    if (this.auth) headers['x-devpi-auth'] = this.auth;
    const res = await fetch(`${this.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`devpi ${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }
}

/** `devpi-export` of a stopped server's data into outdir. */
export async function devpiExport(venv: string, serverdir: string, outdir: string): Promise<void> {
  await run(join(venv, 'bin/devpi-export'), ['--serverdir', serverdir, outdir], { maxBuffer: 16 * 1024 * 1024 });
}

/** What makeDevpiExport put into devpi, to compare a migration against. */
export interface DevpiScenario {
  exportDir: string;
  /** Files uploaded, by `user/index`: file name -> sha256. */
  files: Record<string, Record<string, string>>;
  /** The passwords the users were given in devpi. */
  passwords: Record<string, string>;
}

/**
 * A small but complete devpi: users alice and bob; alice/dev (bob may upload too), bob/scratch
 * (volatile), alice/staging (bases alice/dev and root/pypi, a mirror whose upstream is a closed
 * port: no test reaches the internet); wheels and an sdist uploaded with twine; then the export.
 * `afterUpload` runs while devpi is up (e.g. to install from it with pip).
 */
export async function makeDevpiExport(
  work: string,
  dists: { index: string; user: string; files: string[] }[],
  afterUpload?: (devpi: Devpi, scenario: DevpiScenario) => Promise<void>,
): Promise<DevpiScenario> {
  const { twineUpload } = await import('./clients.ts');
  const { createHash } = await import('node:crypto');
  const { readFile } = await import('node:fs/promises');
  const venv = await devpiVenv();
  const serverdir = join(work, 'devpi-server');
  const passwords: Record<string, string> = { root: 'root-pw', alice: 'alice-pw', bob: 'bob-pw' };
  const devpi = await startDevpi(venv, serverdir, passwords.root);
  const scenario: DevpiScenario = { exportDir: join(work, 'devpi-export'), files: {}, passwords };
  try {
    const root = new DevpiApi(devpi.url);
    await root.login('root', passwords.root);
    await root.call('PUT', '/alice', { password: passwords.alice, email: 'alice@example.org', title: 'Alice' });
    await root.call('PUT', '/bob', { password: passwords.bob });
    await root.call('PUT', '/root/pypi', { type: 'mirror', mirror_url: 'http://127.0.0.1:9/simple/', volatile: false });
    const alice = new DevpiApi(devpi.url);
    await alice.login('alice', passwords.alice);
    await alice.call('PUT', '/alice/dev', { type: 'stage', bases: [], volatile: false, acl_upload: ['alice', 'bob'] });
    await alice.call('PUT', '/alice/staging', { type: 'stage', bases: ['alice/dev', 'root/pypi'], volatile: false });
    const bob = new DevpiApi(devpi.url);
    await bob.login('bob', passwords.bob);
    await bob.call('PUT', '/bob/scratch', { type: 'stage', bases: [], volatile: true });
    for (const d of dists) {
      const r = await twineUpload(`${devpi.url}/${d.index}/`, d.user, passwords[d.user], d.files);
      if (r.code !== 0) throw new Error(`twine upload to devpi ${d.index}: ${r.stdout}${r.stderr}`);
      const byName = (scenario.files[d.index] ??= {});
      for (const f of d.files) byName[f.split('/').pop()!] = createHash('sha256').update(await readFile(f)).digest('hex');
    }
    if (afterUpload) await afterUpload(devpi, scenario);
  } finally {
    await devpi.stop();
  }
  await devpiExport(venv, serverdir, scenario.exportDir);
  return scenario;
}
