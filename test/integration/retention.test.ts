// Retention (the `clean` action and the `retention` option) for hosted PyPI and files
// repositories, driven by twine, pip and curl: a dry run lists what would go, the real run
// deletes it through the delete paths (pages republished, audit entries with reason
// "retention"), exceptions keep what they name, the schedule runs it, and gc frees the blobs.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pip, run, twineUpload } from '../helpers/clients.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface CleanResult { dryRun: boolean; removed: { package: string; version: string; files: string[]; bytes: number }[]; bytes: number; kept: number }

describe('retention: clean with keepVersions, keepDays and exceptions', () => {
  let s: TestServer;
  let work: string;
  const wheels = new Map<string, Buffer>();

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${s.url}/-/api/v1${path}`, {
      method, headers: { authorization: s.adminAuth, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
  const clean = async (repo: string, args: Record<string, unknown>) => {
    const r = await api('POST', `/repositories/${repo}/actions/clean`, args);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json as CleanResult;
  };
  const install = async (spec: string) => {
    const target = await mkdtemp(join(work, 'pip-'));
    const r = await pip(['install', '--no-deps', '--index-url', `${s.url}/py/simple/`, '--target', target, spec]);
    return { code: r.code, stderr: r.stderr, got: (await readdir(target)).filter((n) => n.endsWith('.dist-info')) };
  };
  const curl = async (args: string[]) => {
    const r = await run('curl', ['-q', '-sS', '-w', '\n%{http_code}', ...args]);
    const cut = r.stdout.lastIndexOf('\n');
    return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
  };

  before(async () => {
    s = await startServer();
    work = await mkdtemp(join(tmpdir(), 'wharf-retention-'));
    // No time-travel history, so gc frees what clean deleted at once (historyDays: docs/time-travel.md).
    assert.equal((await api('POST', '/repositories', { name: 'py', format: 'pypi', options: { historyDays: 0 } })).status, 201);
    assert.equal((await api('POST', '/repositories', { name: 'art', format: 'files', options: { historyDays: 0 } })).status, 201);
    const files: string[] = [];
    for (const [name, version] of [['keep-me', '1.0'], ['keep-me', '1.1'], ['keep-me', '1.2'], ['keep-me', '2.0'], ['keep-me', '2.1'], ['frozen', '1.0'], ['frozen', '2.0'], ['frozen', '3.0']]) {
      const f = wheelFilename({ name, version });
      wheels.set(f, buildWheel({ name, version }));
      await writeFile(join(work, f), wheels.get(f)!);
      files.push(join(work, f));
    }
    const up = await twineUpload(`${s.url}/py/`, 'admin', ADMIN_PASSWORD, files);
    assert.equal(up.code, 0, up.stderr);
  });
  after(async () => {
    await s.close();
    await rm(work, { recursive: true, force: true });
  });

  it('refuses bad options with a 400 and changes nothing', async () => {
    for (const bad of [{}, { keepVersions: 0 }, { keepVersions: 'x' }, { keepDays: -2 }, { keepVersions: 1, except: 'bad name!' }, { keepVersions: 1, except: ['keep-me==not.a.version!'] }]) {
      const r = await api('POST', '/repositories/py/actions/clean', bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.equal(r.json.error.code, 'BAD_REQUEST');
    }
    assert.equal((await api('POST', '/repositories/art/actions/clean', { keepVersions: 1, except: [''] })).status, 400);
    for (const retention of [{ keepVersions: 0 }, { every: 5, keepVersions: 1 }, { keepVersions: 1, everyMinutes: -1 }, 'daily', { everyMinutes: 5 }]) {
      assert.equal((await api('PATCH', '/repositories/py', { options: { retention } })).status, 400, JSON.stringify(retention));
    }
    // APT and Arch clean by count only.
    assert.equal((await api('POST', '/repositories', { name: 'deb', format: 'apt', options: { retention: { keepVersions: 2, keepDays: 3 } } })).status, 400);
    assert.equal((await api('POST', '/repositories', { name: 'pkgs', format: 'arch', options: { retention: { keepVersions: 1, except: ['x'] } } })).status, 400);
    const arch = await api('POST', '/repositories', { name: 'pkgs', format: 'arch', options: { retention: { keepVersions: 2 } } });
    assert.equal(arch.status, 201, JSON.stringify(arch.json));
    assert.deepEqual(arch.json.options.retention, { keepVersions: 2, everyMinutes: 1440 });
    assert.equal((await api('GET', '/repositories/py/packages/keep-me')).json.versions.length, 5);
  });

  it('PyPI: a dry run lists the versions past keepVersions=2 (PEP 440 order); the exception keeps a project; nothing goes', async () => {
    const dry = await clean('py', { keepVersions: 2, except: ['Frozen'], dryRun: true });
    assert.equal(dry.dryRun, true);
    assert.deepEqual(dry.removed.map((r) => `${r.package} ${r.version}`), ['keep-me 1.2', 'keep-me 1.1', 'keep-me 1.0']);
    assert.deepEqual(dry.removed[0].files, [wheelFilename({ name: 'keep-me', version: '1.2' })]);
    assert.ok(dry.bytes > 0);
    assert.equal((await api('GET', '/repositories/py/packages/keep-me')).json.versions.length, 5);
    assert.equal((await install('keep-me==1.0')).code, 0);
  });

  it('PyPI: the real run deletes them; pip installs the newest, not a pruned one; the pages and the trail follow; gc frees the blobs', async () => {
    const pruned = ['1.0', '1.1', '1.2'].map((v) => wheelFilename({ name: 'keep-me', version: v }));
    for (const f of pruned) assert.equal(await s.wharf.blobs.has(sha256(wheels.get(f)!)), true);
    const done = await clean('py', { keepVersions: 2, except: ['frozen'] });
    assert.equal(done.dryRun, false);
    assert.equal(done.removed.length, 3);
    assert.deepEqual((await api('GET', '/repositories/py/packages/keep-me')).json.versions.map((v: { version: string }) => v.version).sort(), ['2.0', '2.1']);
    assert.equal((await api('GET', '/repositories/py/packages/frozen')).json.versions.length, 3);

    const newest = await install('keep-me');
    assert.equal(newest.code, 0, newest.stderr);
    assert.deepEqual(newest.got, ['keep_me-2.1.dist-info']);
    const gone = await install('keep-me==1.1');
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /No matching distribution|Could not find a version/);
    assert.equal((await install('frozen==1.0')).code, 0);

    const html = await (await fetch(`${s.url}/py/simple/keep-me/`, { headers: { accept: 'text/html' } })).text();
    const json = await (await fetch(`${s.url}/py/simple/keep-me/`, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } })).json() as { files: { filename: string }[]; versions: string[] };
    for (const f of pruned) {
      assert.ok(!html.includes(f), f);
      assert.ok(!json.files.some((x) => x.filename === f), f);
      assert.equal((await fetch(`${s.url}/py/packages/keep-me/${f}`)).status, 404);
    }
    assert.deepEqual(json.versions, ['2.0', '2.1']);
    assert.equal((await fetch(`${s.url}/py/packages/keep-me/${wheelFilename({ name: 'keep-me', version: '2.1' })}`)).status, 200);

    const audit = (await api('GET', '/audit?repo=py&action=delete-version')).json.entries as { actor: string; target: string; detail: { reason?: string } }[];
    assert.deepEqual(audit.map((e) => [e.target, e.detail.reason, e.actor]).sort(), [['keep-me 1.0', 'retention', 'admin'], ['keep-me 1.1', 'retention', 'admin'], ['keep-me 1.2', 'retention', 'admin']]);

    const gc = await s.wharf.gc({ graceMs: 0 });
    assert.ok(gc.blobs >= 3, JSON.stringify(gc));
    for (const f of pruned) assert.equal(await s.wharf.blobs.has(sha256(wheels.get(f)!)), false, f);
    assert.equal(await s.wharf.blobs.has(sha256(wheels.get(wheelFilename({ name: 'keep-me', version: '2.1' }))!)), true);
  });

  it('PyPI: the retention option runs clean on the schedule (as system); a pin keeps its version', async () => {
    const r = await api('PATCH', '/repositories/py', { options: { retention: { keepVersions: 1, except: ['frozen==1.0'], everyMinutes: 60 } } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json.options.retention, { keepVersions: 1, except: ['frozen==1.0'], everyMinutes: 60 });
    await s.scheduler.tick();
    const versions = async (p: string) => ((await api('GET', `/repositories/py/packages/${p}`)).json.versions as { version: string }[]).map((v) => v.version).sort();
    for (let i = 0; i < 200 && (await versions('keep-me')).length > 1; i++) await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(await versions('keep-me'), ['2.1']);
    for (let i = 0; i < 200 && (await versions('frozen')).length > 2; i++) await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(await versions('frozen'), ['1.0', '3.0']);
    const audit = (await api('GET', '/audit?repo=py&action=delete-version&limit=1')).json.entries as { actor: string; detail: { reason?: string } }[];
    assert.deepEqual([audit[0].actor, audit[0].detail.reason], ['system', 'retention']);
    // Removing the option stops it.
    assert.equal((await api('PATCH', '/repositories/py', { options: { retention: null } })).json.options.retention, undefined);
  });

  it('files: keepVersions per directory with curl uploads, an except glob, keepDays; deleted files 404 and leave the listing', async () => {
    const paths = ['app/app-1.0.tgz', 'app/app-1.1.tgz', 'app/app-1.2.tgz', 'app/app-1.3.tgz', 'lib/lib-0.1.tgz', 'lib/lib-0.2.tgz', 'pinned/keep-1.tgz', 'pinned/keep-2.tgz'];
    for (const p of paths) {
      await writeFile(join(work, 'body'), `content of ${p}`);
      const r = await curl(['-u', `admin:${ADMIN_PASSWORD}`, '-T', join(work, 'body'), `${s.url}/art/${p}`]);
      assert.ok(r.status === 201 || r.status === 200, `${p}: ${r.status} ${r.body}`);
    }
    // Upload times a month and more ago for app-1.1 and lib-0.1 (a hosted repository cannot be given old times over HTTP).
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
    await s.wharf.store.sql.run(`UPDATE files SET created_at = ? WHERE path IN ('app/app-1.0.tgz', 'app/app-1.1.tgz', 'lib/lib-0.1.tgz', 'pinned/keep-1.tgz')`, [old]);

    const byDays = await clean('art', { keepDays: 30, dryRun: true });
    assert.deepEqual(byDays.removed.map((r) => r.files[0]), ['app/app-1.0.tgz', 'app/app-1.1.tgz', 'lib/lib-0.1.tgz', 'pinned/keep-1.tgz']);

    const dry = await clean('art', { keepVersions: 2, except: ['pinned/**'], dryRun: true });
    assert.deepEqual(dry.removed.map((r) => r.files[0]), ['app/app-1.0.tgz', 'app/app-1.1.tgz']);
    // The CLI: the same dry run with --keep-days, --except and --prefix.
    const cli = await run(process.execPath, [join(import.meta.dirname, '../../src/cli/main.ts'), 'clean', 'art', '--keep', '1', '--keep-days', '30', '--except', 'app/app-1.0.tgz', '--except', 'lib/**', '--dry-run'], {
      env: { ...process.env, WHARF_URL: s.url, WHARF_USER: 'admin', WHARF_PASSWORD: ADMIN_PASSWORD, WHARF_TOKEN: '' },
    });
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(cli.stdout.trim().split('\n').slice(0, -1), ['would delete app/ app-1.1.tgz (26 B)', 'would delete pinned/ keep-1.tgz (28 B)']);
    assert.match(cli.stdout, /would free 54 B in 2 versions; run `wharf gc`/);
    const blob = sha256(Buffer.from('content of app/app-1.0.tgz'));
    assert.equal(await s.wharf.blobs.has(blob), true);

    const done = await clean('art', { keepVersions: 1, keepDays: 30, except: ['pinned/**'], prefix: 'app/' });
    assert.deepEqual(done.removed.map((r) => r.files[0]), ['app/app-1.0.tgz', 'app/app-1.1.tgz']);
    assert.equal((await curl([`${s.url}/art/app/app-1.0.tgz`])).status, 404);
    assert.equal((await curl([`${s.url}/art/app/app-1.2.tgz`])).status, 200);
    assert.equal((await curl([`${s.url}/art/lib/lib-0.1.tgz`])).status, 200, 'outside the prefix');
    const listing = (await curl(['-H', 'accept: application/json', `${s.url}/art/app/`])).body;
    assert.ok(!listing.includes('app-1.0.tgz') && listing.includes('app-1.3.tgz'), listing);
    const audit = (await api('GET', '/audit?repo=art&action=delete-file')).json.entries as { target: string; detail: { reason?: string } }[];
    assert.deepEqual(audit.map((e) => [e.target, e.detail.reason]).sort(), [['app/app-1.0.tgz', 'retention'], ['app/app-1.1.tgz', 'retention']]);
    await s.wharf.gc({ graceMs: 0 });
    assert.equal(await s.wharf.blobs.has(blob), false);
  });
});
