// Offline mirrors: `wharf mirror sync` fills a PyPI proxy with a requirements file's whole
// dependency closure; with the upstream stopped, pip installs from it; pruning follows
// requirement changes.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pip, run } from '../helpers/clients.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

async function uploadWheel(server: TestServer, name: string, version: string, requiresDist: string[] = []) {
  const res = await fetch(`${server.url}/-/api/v1/repositories/pypi/upload?filename=${wheelFilename({ name, version })}`, {
    method: 'POST', body: buildWheel({ name, version, requiresDist }), headers: { authorization: server.adminAuth, 'content-type': 'application/octet-stream' },
  });
  assert.equal(res.status, 201);
}

describe('mirror sync of a PyPI proxy', () => {
  let upstream: TestServer;
  let local: TestServer;
  let work: string;

  const wharf = (args: string[]) => run(process.execPath, [MAIN, ...args], {
    env: { ...process.env, WHARF_URL: local.url, WHARF_USER: 'admin', WHARF_PASSWORD: ADMIN_PASSWORD },
  });
  const cached = async () => (await local.wharf.store.listFilesByPrefix(local.wharf.requireRepo('mir').id, 'packages/'))
    .filter((f) => f.meta.kind === 'dist').map((f) => f.filename).sort();

  before(async () => {
    upstream = await startServer();
    await uploadWheel(upstream, 'top', '1.0', ['mid>=1', 'winonly; sys_platform == "win32"', 'extra-dep; extra == "fancy"']);
    await uploadWheel(upstream, 'mid', '1.0');
    await uploadWheel(upstream, 'mid', '2.0', ['leaf']);
    await uploadWheel(upstream, 'leaf', '1.0');
    await uploadWheel(upstream, 'leaf', '2.0');
    await uploadWheel(upstream, 'winonly', '1.0');
    await uploadWheel(upstream, 'extra-dep', '1.0');
    await uploadWheel(upstream, 'unrelated', '1.0');
    local = await startServer();
    const res = await fetch(`${local.url}/-/api/v1/repositories`, {
      method: 'POST', headers: { authorization: local.adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'mir', format: 'pypi', kind: 'proxy', options: { upstream: `${upstream.url}/pypi/simple/`, timeout: 5, metadataTtl: 0 } }),
    });
    assert.equal(res.status, 201);
    work = await mkdtemp(join(tmpdir(), 'wharf-mirror-'));
  });
  after(async () => {
    await local.close();
    await upstream.close().catch(() => {});
  });

  it('fetches the dependency closure, with markers evaluated for the target', async () => {
    await writeFile(join(work, 'requirements.txt'), '# what the job needs\ntop==1.0  # pinned\n');
    const r = await wharf(['mirror', 'sync', 'mir', '-r', join(work, 'requirements.txt'), '--python', '3.11', '--platform', 'linux_x86_64']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /mirrored 5 files of 3 projects/);
    assert.deepEqual(await cached(), [
      'leaf-1.0-py3-none-any.whl', 'leaf-2.0-py3-none-any.whl', 'mid-1.0-py3-none-any.whl', 'mid-2.0-py3-none-any.whl', 'top-1.0-py3-none-any.whl',
    ]);
    const again = await wharf(['mirror', 'sync', 'mir', '-r', join(work, 'requirements.txt')]);
    assert.match(again.stdout, /0 downloaded, 5 already cached, 0 pruned/);
  });

  it('runs a configured mirror sync on its own schedule', async () => {
    const res = await fetch(`${local.url}/-/api/v1/repositories`, {
      method: 'POST', headers: { authorization: local.adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'sched', format: 'pypi', kind: 'proxy', options: { upstream: `${upstream.url}/pypi/simple/`, mirror: { specs: ['leaf==1.0'], everyMinutes: 60 } } }),
    });
    assert.equal(res.status, 201, await res.text());
    const bad = await fetch(`${local.url}/-/api/v1/repositories`, {
      method: 'POST', headers: { authorization: local.adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'sched2', format: 'pypi', kind: 'proxy', options: { upstream: `${upstream.url}/pypi/simple/`, mirror: { everyMinutes: 60 } } }),
    });
    assert.equal(bad.status, 400);
    await local.scheduler.tick();
    const repo = local.wharf.requireRepo('sched');
    // The sync runs in the background and caches the wheel's core metadata before the wheel:
    // wait for the wheel itself (a busy machine may take a while).
    const dists = async () => (await local.wharf.store.listFilesByPrefix(repo.id, 'packages/')).filter((f) => f.meta.kind === 'dist').map((f) => f.filename);
    for (let i = 0; i < 400 && (await dists()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const files = await dists();
    assert.deepEqual(files, ['leaf-1.0-py3-none-any.whl']);
  });

  it('serves pip install -r with the upstream stopped', async () => {
    await upstream.close();
    const target = join(work, 'site');
    const r = await pip(['install', '--index-url', `${local.url}/mir/simple/`, '--target', target, '-r', join(work, 'requirements.txt')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const dists = (await readdir(target)).filter((n) => n.endsWith('.dist-info')).sort();
    assert.deepEqual(dists, ['leaf-2.0.dist-info', 'mid-2.0.dist-info', 'top-1.0.dist-info']);
    const page = await fetch(`${local.url}/mir/simple/top/`);
    assert.equal(page.headers.get('x-wharf-stale'), 'true');
  });

  it('prunes what no longer matches after the requirements change, even offline', async () => {
    const dry = await wharf(['mirror', 'sync', 'mir', 'mid==1.0', '--no-deps', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /would mirror 1 files of 1 projects.*4 pruned/);
    assert.equal((await cached()).length, 5, 'a dry run deletes nothing');
    const r = await wharf(['mirror', 'sync', 'mir', 'mid==1.0', '--no-deps']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await cached(), ['mid-1.0-py3-none-any.whl']);

  });

  it('reports requirements that cannot be satisfied and refuses bad input', async () => {
    const r = await wharf(['mirror', 'sync', 'mir', 'mid==9.9', '--no-prune']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /missing: mid==9\.9/);
    const bad = await wharf(['mirror', 'sync', 'mir', 'not a requirement!!']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /400/);
    const hosted = await wharf(['mirror', 'sync', 'pypi', 'x']);
    assert.match(hosted.stderr, /proxy repositories/);
  });
});

describe('mirror sync pruning beside pull-through use', () => {
  let upstream: TestServer;
  let local: TestServer;
  let work: string;
  const wharf = (args: string[]) => run(process.execPath, [MAIN, ...args], {
    env: { ...process.env, WHARF_URL: local.url, WHARF_USER: 'admin', WHARF_PASSWORD: ADMIN_PASSWORD },
  });
  const cached = async () => (await local.wharf.store.listFilesByPrefix(local.wharf.requireRepo('px').id, 'packages/'))
    .filter((f) => f.meta.kind === 'dist').map((f) => f.filename).sort();

  before(async () => {
    upstream = await startServer();
    await uploadWheel(upstream, 'pulled', '1.0');
    await uploadWheel(upstream, 'synced', '1.0');
    await uploadWheel(upstream, 'other', '1.0');
    local = await startServer();
    const res = await fetch(`${local.url}/-/api/v1/repositories`, {
      method: 'POST', headers: { authorization: local.adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'px', format: 'pypi', kind: 'proxy', options: { upstream: `${upstream.url}/pypi/simple/`, timeout: 5, metadataTtl: 0 } }),
    });
    assert.equal(res.status, 201);
    work = await mkdtemp(join(tmpdir(), 'wharf-mirror-'));
  });
  after(async () => {
    await local.close();
    await upstream.close().catch(() => {});
  });

  it('prunes only what a sync brought in: files pip pulled through stay cached and are served offline', async () => {
    const first = await pip(['install', '--index-url', `${local.url}/px/simple/`, '--target', join(work, 'a'), 'pulled']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.deepEqual(await cached(), ['pulled-1.0-py3-none-any.whl']);
    const sync = await wharf(['mirror', 'sync', 'px', 'synced==1.0']);
    assert.equal(sync.code, 0, sync.stderr);
    assert.match(sync.stdout, /1 downloaded, 0 already cached, 0 pruned/);
    assert.deepEqual(await cached(), ['pulled-1.0-py3-none-any.whl', 'synced-1.0-py3-none-any.whl']);
    // A later sync of something else prunes the first sync's file, never pip's.
    const next = await wharf(['mirror', 'sync', 'px', 'other==1.0']);
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stdout, /1 downloaded, 0 already cached, 1 pruned/);
    assert.deepEqual(await cached(), ['other-1.0-py3-none-any.whl', 'pulled-1.0-py3-none-any.whl']);
    await upstream.close();
    const offline = await pip(['install', '--index-url', `${local.url}/px/simple/`, '--target', join(work, 'b'), 'pulled']);
    assert.equal(offline.code, 0, offline.stdout + offline.stderr);
    assert.ok((await readdir(join(work, 'b'))).includes('pulled-1.0.dist-info'));
  });
});
