// `wharf migrate-from bandersnatch` on a mirror written by real bandersnatch (from its public
// source, on Debian's Python 3.11: one PEP 695 signature and its python_requires relaxed).
// Only the upstream is faked: a small server here answering what bandersnatch asks of PyPI
// (the simple index as JSON with `_last-serial`, `/pypi/<project>/json` with
// X-PYPI-LAST-SERIAL, the files). After bandersnatch mirrors it, one file in the mirror is
// corrupted; the migration moves the rest into a proxy repository's cache and names the
// corrupted one; the upstream stops and pip installs from Wharf; a second run changes nothing.
// WHARF_TEST_DATABASE=postgres runs it on PostgreSQL.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { wharfCli } from '../helpers/child-server.ts';
import { pip, run } from '../helpers/clients.ts';
import { missingSources, TOOLS_CACHE, unpackedSource } from '../helpers/fetched-source.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

const PY = '/usr/bin/python3';
const skip = missingSources('pypa/bandersnatch')
  || (spawnSync(PY, ['-c', 'import aiohttp, aiohttp_socks, filelock, humanfriendly, packaging']).status !== 0
    && 'needs python3-aiohttp python3-aiohttp-socks python3-filelock python3-humanfriendly python3-packaging (scripts/install-test-deps.sh)');

/** A virtualenv with bandersnatch installed from the snapshot, made once per commit. */
function bandersnatchVenv(): string {
  const src = unpackedSource('pypa/bandersnatch');
  const venv = join(TOOLS_CACHE, `bandersnatch-venv-${src.split('-').pop()}`);
  if (existsSync(join(venv, 'bin', 'bandersnatch'))) return venv;
  const part = `${venv}.part-${process.pid}`;
  const copy = `${part}-src`;
  rmSync(part, { recursive: true, force: true });
  rmSync(copy, { recursive: true, force: true });
  mkdirSync(copy, { recursive: true });
  execFileSync('cp', ['-a', `${src}/.`, copy]);
  // Debian 12 has Python 3.11: the one 3.12-only signature (PEP 695) and the version pins.
  execFileSync('sed', ['-i', 's/async def storage_plugin_exec\\[T\\](fn: Callable\\[..., T\\], \\*args: Any) -> T:/async def storage_plugin_exec(fn: Callable[..., Any], *args: Any) -> Any:/', join(copy, 'src/bandersnatch/mirror.py')]);
  execFileSync('sed', ['-i', 's/>=3\\.12/>=3.11/', join(copy, 'setup.cfg'), join(copy, 'pyproject.toml')]);
  execFileSync(PY, ['-m', 'venv', '--system-site-packages', part]);
  execFileSync(join(part, 'bin', 'pip'), ['--isolated', 'install', '-q', '--no-deps', '--no-build-isolation', '--no-index', copy], { env: { ...process.env, PIP_CONFIG_FILE: '/dev/null' }, stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(copy, { recursive: true, force: true });
  try {
    renameSync(part, venv);
  } catch {
    rmSync(part, { recursive: true, force: true });
  }
  // The venv's scripts name their interpreter by the path they were made at.
  if (!existsSync(join(venv, 'bin', 'bandersnatch'))) throw new Error('bandersnatch did not install');
  return venv;
}

/** What bandersnatch asks of PyPI, for a few wheels. */
async function fakeUpstream(files: Map<string, Buffer>): Promise<{ url: string; server: Server }> {
  const byProject = new Map<string, string[]>();
  for (const name of files.keys()) {
    const project = name.split('-')[0].replace(/_/g, '-');
    byProject.set(project, [...(byProject.get(project) ?? []), name]);
  }
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const server = createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const u = req.url ?? '';
    res.setHeader('x-pypi-last-serial', '10');
    if (u === '/simple/' || u === '/simple') {
      res.setHeader('content-type', 'application/vnd.pypi.simple.v1+json');
      return res.end(JSON.stringify({ meta: { 'api-version': '1.1', '_last-serial': 10 }, projects: [...byProject.keys()].map((name) => ({ name, '_last-serial': 10 })) }));
    }
    // A project's page, as PyPI serves it to pip and to the proxy the mirror becomes.
    const page = /^\/simple\/([^/]+)\/$/.exec(u);
    if (page && byProject.has(page[1])) {
      res.setHeader('content-type', 'application/vnd.pypi.simple.v1+json');
      return res.end(JSON.stringify({
        meta: { 'api-version': '1.1', '_last-serial': 10 }, name: page[1],
        files: byProject.get(page[1])!.map((f) => {
          const h = sha(files.get(f)!);
          return { filename: f, url: `${base}/packages/${h.slice(0, 2)}/${h.slice(2, 4)}/${h.slice(4)}/${f}`, hashes: { sha256: h } };
        }),
      }));
    }
    const json = /^\/pypi\/([^/]+)\/json$/.exec(u);
    if (json && byProject.has(json[1])) {
      const releases: Record<string, unknown[]> = {};
      let latest = '';
      for (const f of byProject.get(json[1])!) {
        const b = files.get(f)!;
        const h = sha(b);
        latest = f.split('-')[1];
        (releases[latest] ??= []).push({
          filename: f, url: `${base}/packages/${h.slice(0, 2)}/${h.slice(2, 4)}/${h.slice(4)}/${f}`, packagetype: 'bdist_wheel', size: b.length,
          digests: { sha256: h, md5: createHash('md5').update(b).digest('hex') }, requires_python: null, yanked: false, yanked_reason: null,
          upload_time_iso_8601: '2024-01-01T00:00:00.000000Z',
        });
      }
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify({ info: { name: json[1], version: latest }, last_serial: 10, releases, urls: releases[latest] }));
    }
    const file = /^\/packages\/.*\/([^/]+)$/.exec(u);
    if (file && files.has(file[1])) return res.end(files.get(file[1]));
    res.statusCode = 404;
    res.end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

interface Report { moved: { kind: string; name: string }[]; unchanged: { kind: string; name: string }[]; skipped: { kind: string; name: string; note?: string }[] }

describe('wharf migrate-from bandersnatch', { skip }, () => {
  let dir: string;
  let server: TestServer;
  let upstream: { url: string; server: Server } | undefined;
  const files = new Map<string, Buffer>([
    [wheelFilename({ name: 'alpha-lib', version: '1.0' }), buildWheel({ name: 'alpha-lib', version: '1.0' })],
    [wheelFilename({ name: 'beta-app', version: '2.0' }), buildWheel({ name: 'beta-app', version: '2.0', requiresDist: ['alpha-lib>=1.0'] })],
    [wheelFilename({ name: 'gamma-tool', version: '0.1' }), buildWheel({ name: 'gamma-tool', version: '0.1' })],
  ]);
  const corrupted = `gamma-tool/${wheelFilename({ name: 'gamma-tool', version: '0.1' })}`;

  const migrate = async () => {
    const r = await wharfCli(['migrate-from', 'bandersnatch', join(dir, 'mirror'), '--repo', 'mirror', '--upstream', `${upstream!.url}/simple/`, '--json'],
      { WHARF_URL: server.url, WHARF_USER: 'admin', WHARF_PASSWORD: ADMIN_PASSWORD });
    assert.equal(r.code, 0, r.out);
    return JSON.parse(r.out.slice(r.out.indexOf('{'))) as Report;
  };

  before(async () => {
    const venv = bandersnatchVenv();
    dir = await mkdtemp(join(tmpdir(), 'wharf-mig-bandersnatch-'));
    upstream = await fakeUpstream(files);
    await writeFile(join(dir, 'bandersnatch.conf'), [
      '[mirror]', `directory = ${join(dir, 'mirror')}`, `master = ${upstream.url}`, 'allow-non-https = true', 'json = true',
      'timeout = 10', 'global-timeout = 600', 'workers = 2', 'hash-index = false', 'simple-format = ALL', 'stop-on-error = true',
      'storage-backend = filesystem', 'verifiers = 2', '',
    ].join('\n'));
    // Not spawnSync: the fake upstream answers from this process.
    // `python -m`: the venv was made at another path, which its scripts' #! lines name.
    const r = await run(join(venv, 'bin', 'python'), ['-m', 'bandersnatch', '-c', join(dir, 'bandersnatch.conf'), 'mirror']);
    assert.equal(r.code, 0, r.stderr);
    const pkgs = execFileSync('find', [join(dir, 'mirror/web/packages'), '-type', 'f'], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(pkgs.length, 3, 'bandersnatch mirrored the three wheels');
    // A file damaged on disk after bandersnatch checked it.
    await appendFile(pkgs.find((p) => p.includes('gamma_tool'))!, 'damage');
    server = await startServer();
  });

  after(async () => {
    if (upstream?.server.listening) upstream.server.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('moves the pages and files into a proxy repository\'s cache, verified; a corrupted file is named with the reason', async () => {
    const report = await migrate();
    assert.deepEqual(report.moved.filter((m) => m.kind === 'repository').map((m) => m.name), ['mirror']);
    assert.deepEqual(report.moved.filter((m) => m.kind === 'file').map((m) => m.name).sort(), ['alpha-lib/alpha_lib-1.0-py3-none-any.whl', 'beta-app/beta_app-2.0-py3-none-any.whl']);
    assert.deepEqual(report.skipped.map((s) => s.name), [corrupted]);
    assert.match(report.skipped[0].note!, /sha256 [0-9a-f]{64} does not match the page's [0-9a-f]{64}/);
    const repo = await server.wharf.repo('mirror');
    assert.equal(repo?.kind, 'proxy');
    assert.equal(repo?.options.upstream, `${upstream!.url}/simple/`);
    const cached = (await server.wharf.store.listFilesByPrefix(repo!.id, 'packages/')).map((f) => f.path).sort();
    assert.deepEqual(cached, ['packages/alpha-lib/alpha_lib-1.0-py3-none-any.whl', 'packages/beta-app/beta_app-2.0-py3-none-any.whl']);
  });

  it('the file that did not move comes from the upstream at once, right (not from the run\'s own pages)', async () => {
    // The pages cached during the run came from the migration's temporary server; once it is
    // gone, a file they list that did not move must still be fetched from the real upstream.
    const target = join(dir, 'site-gamma');
    const r = await pip(['install', '--index-url', `${server.url}/mirror/simple/`, '--target', target, 'gamma-tool']);
    const page = await (await fetch(`${server.url}/mirror/simple/gamma-tool/`)).text();
    assert.equal(r.code, 0, r.stderr + page);
    assert.deepEqual((await readdir(target)).filter((f) => f.endsWith('.dist-info')), ['gamma_tool-0.1.dist-info']);
  });

  it('pip installs from the proxy with the upstream gone', async () => {
    await new Promise<void>((r) => upstream!.server.close(() => r()));
    upstream!.server.closeAllConnections();
    // Pages past their time: the proxy asks the (stopped) upstream, then serves its cached copy.
    await server.wharf.updateRepo('mirror', { options: { metadataTtl: 1 } });
    await new Promise((r) => setTimeout(r, 1100));
    const target = join(dir, 'site');
    const r = await pip(['install', '--index-url', `${server.url}/mirror/simple/`, '--target', target, 'beta-app']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readdir(target)).filter((f) => f.endsWith('.dist-info')).sort(), ['alpha_lib-1.0.dist-info', 'beta_app-2.0.dist-info']);
    const installed = await readFile(join(target, 'beta_app', '__init__.py'), 'utf8');
    assert.match(installed, /2\.0/);
  });

  it('into an existing proxy: its own upstream and settings are kept, only its cache is filled', async () => {
    const own = 'http://127.0.0.1:9/team-index/simple/';
    await server.wharf.createRepo({ name: 'team', format: 'pypi', kind: 'proxy', options: { upstream: own, offline: true, metadataTtl: 3600 } });
    const r = await wharfCli(['migrate-from', 'bandersnatch', join(dir, 'mirror'), '--repo', 'team', '--json'],
      { WHARF_URL: server.url, WHARF_USER: 'admin', WHARF_PASSWORD: ADMIN_PASSWORD });
    assert.equal(r.code, 0, r.out);
    const report = JSON.parse(r.out.slice(r.out.indexOf('{'))) as Report;
    assert.equal(report.moved.filter((m) => m.kind === 'file').length, 2);
    const repo = server.wharf.repo('team')!;
    assert.equal(repo.options.upstream, own, 'the proxy still reads from its own upstream');
    assert.equal(repo.options.offline, true);
    assert.equal(repo.options.metadataTtl, 3600);
  });

  it('a second run changes nothing', async () => {
    const report = await migrate();
    assert.deepEqual(report.moved, []);
    assert.equal(report.unchanged.filter((u) => u.kind === 'file').length, 2);
    assert.deepEqual(report.skipped.map((s) => s.name), [corrupted]);
  });
});
