// Hosted PyPI driven by the real clients: twine uploads, pip installs (with PEP 658
// metadata, --require-hashes, yanked releases), against a real server on 127.0.0.1.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pip, twineUpload } from '../helpers/clients.ts';
import { buildSdist, buildWheel, sdistFilename, wheelFilename } from '../helpers/python-dists.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

describe('hosted PyPI with twine and pip', () => {
  let server: TestServer;
  let work: string;
  const dists: Record<string, string> = {};

  const write = async (name: string, data: Buffer) => {
    const p = join(work, name);
    await writeFile(p, data);
    dists[name] = p;
    return p;
  };

  before(async () => {
    server = await startServer();
    work = await mkdtemp(join(tmpdir(), 'wharf-pypi-'));
    await write(wheelFilename({ name: 'Top.App', version: '1.0' }), buildWheel({ name: 'Top.App', version: '1.0', requiresDist: ['mid-lib>=1.0'], summary: 'the app' }));
    await write(wheelFilename({ name: 'mid_lib', version: '1.0' }), buildWheel({ name: 'mid_lib', version: '1.0', requiresDist: ['base-lib'] }));
    await write(wheelFilename({ name: 'mid_lib', version: '1.1' }), buildWheel({ name: 'mid_lib', version: '1.1', requiresDist: ['base-lib'] }));
    await write(sdistFilename({ name: 'mid_lib', version: '1.1' }), await buildSdist({ name: 'mid_lib', version: '1.1' }));
    await write(wheelFilename({ name: 'base-lib', version: '0.1' }), buildWheel({ name: 'base-lib', version: '0.1', requiresPython: '>=3.6' }));
  });
  after(async () => server.close());

  it('twine uploads wheels and sdists', async () => {
    const r = await twineUpload(`${server.url}/pypi/`, 'admin', ADMIN_PASSWORD, Object.values(dists));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const pkgs = (await server.wharf.store.listPackages(server.wharf.requireRepo('pypi').id)).map(
(p) => p.name);
    assert.deepEqual(pkgs, ['base-lib', 'mid-lib', 'top-app']);
  });

  it('an identical re-upload succeeds and different bytes under the same name are refused with 409', async () => {
    const same = await twineUpload(`${server.url}/pypi/`, 'admin', ADMIN_PASSWORD, [dists['base_lib-0.1-py3-none-any.whl']]);
    assert.equal(same.code, 0, same.stdout + same.stderr);
    const otherDir = await mkdtemp(join(tmpdir(), 'wharf-pypi-other-'));
    const other = join(otherDir, 'base_lib-0.1-py3-none-any.whl');
    await writeFile(other, buildWheel({ name: 'base-lib', version: '0.1', summary: 'different bytes' }));
    const clash = await twineUpload(`${server.url}/pypi/`, 'admin', ADMIN_PASSWORD, [other]);
    assert.notEqual(clash.code, 0);
    assert.match(clash.stdout + clash.stderr, /409/);
  });

  it('pip installs a package and its dependencies, reading PEP 658 metadata first', async () => {
    const target = await mkdtemp(join(tmpdir(), 'wharf-pip-'));
    const before = server.requests.length;
    const r = await pip(['install', '--index-url', `${server.url}/pypi/simple/`, '--target', target, 'top-app']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const installed = (await readdir(target)).filter((n) => n.endsWith('.dist-info')).sort();
    assert.deepEqual(installed, ['base_lib-0.1.dist-info', 'mid_lib-1.1.dist-info', 'top_app-1.0.dist-info']);
    const urls = server.requests.slice(before).map((q) => q.url);
    assert.ok(urls.some((u) => u.endsWith('top_app-1.0-py3-none-any.whl.metadata')), urls.join('\n'));
    assert.ok(urls.some((u) => u === '/pypi/simple/top-app/'), 'pip asked for the normalized project page');
  });

  it('a new upload shows at once on pages answered from the response cache', async () => {
    const page = () => fetch(`${server.url}/pypi/simple/base-lib/`).then((r) => r.text());
    await page();
    const cachedAnswer = await page();
    assert.doesNotMatch(cachedAnswer, /base_lib-0\.2/);
    const dir = await mkdtemp(join(tmpdir(), 'wharf-pypi-new-'));
    const file = join(dir, wheelFilename({ name: 'base-lib', version: '0.2' }));
    await writeFile(file, buildWheel({ name: 'base-lib', version: '0.2', requiresPython: '>=3.6' }));
    const up = await twineUpload(`${server.url}/pypi/`, 'admin', ADMIN_PASSWORD, [file]);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    assert.match(await page(), /base_lib-0\.2/);
    const del = await fetch(`${server.url}/-/api/v1/repositories/pypi/packages/base-lib/versions/0.2`, { method: 'DELETE', headers: { authorization: server.adminAuth } });
    assert.equal(del.status, 204);
    assert.doesNotMatch(await page(), /base_lib-0\.2/);
  });

  it('pip installs with --require-hashes', async () => {
    const target = await mkdtemp(join(tmpdir(), 'wharf-pip-'));
    const sha = (p: string) => import('node:fs/promises').then((fs) => fs.readFile(p)).then((b) => createHash('sha256').update(b).digest('hex'));
    const req = join(target, 'requirements.txt');
    await writeFile(req, [
      `base-lib==0.1 --hash=sha256:${await sha(dists['base_lib-0.1-py3-none-any.whl'])}`,
      `mid-lib==1.0 --hash=sha256:${await sha(dists['mid_lib-1.0-py3-none-any.whl'])}`,
    ].join('\n') + '\n');
    const r = await pip(['install', '--index-url', `${server.url}/pypi/simple/`, '--target', join(target, 'site'), '--require-hashes', '-r', req]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const bad = join(target, 'bad.txt');
    await writeFile(bad, `base-lib==0.1 --hash=sha256:${'0'.repeat(64)}\n`);
    const refused = await pip(['install', '--index-url', `${server.url}/pypi/simple/`, '--target', join(target, 'site2'), '--require-hashes', '-r', bad]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /do not match the hashes|THESE PACKAGES DO NOT MATCH/i);
  });

  it('pip skips a yanked release unless it is pinned', async () => {
    const res = await fetch(`${server.url}/-/api/v1/repositories/pypi/actions/yank`, {
      method: 'POST', headers: { authorization: server.adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ package: 'mid-lib', version: '1.1', reason: 'broken build' }),
    });
    assert.equal(res.status, 200);
    const html = await (await fetch(`${server.url}/pypi/simple/mid-lib/`)).text();
    assert.match(html, /data-yanked="broken build"/);
    const target = await mkdtemp(join(tmpdir(), 'wharf-pip-'));
    const r = await pip(['install', '--index-url', `${server.url}/pypi/simple/`, '--target', target, 'mid-lib']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok((await readdir(target)).includes('mid_lib-1.0.dist-info'), 'the yanked 1.1 was skipped');
    const pinned = await pip(['install', '--index-url', `${server.url}/pypi/simple/`, '--target', await mkdtemp(join(tmpdir(), 'wharf-pip-')), '--no-deps', 'mid-lib==1.1']);
    assert.equal(pinned.code, 0, pinned.stderr);
    assert.match(pinned.stderr, /yanked/i);
  });

  it('pip authenticates to a private repository with a token', async () => {
    const h = { authorization: server.adminAuth, 'content-type': 'application/json' };
    assert.equal((await fetch(`${server.url}/-/api/v1/repositories`, { method: 'POST', headers: h, body: JSON.stringify({ name: 'private', format: 'pypi', public: false }) })).status, 201);
    const tok = await (await fetch(`${server.url}/-/api/v1/tokens`, { method: 'POST', headers: h, body: JSON.stringify({ name: 'ci', repos: ['private'], permission: 'write' }) })).json() as { token: string };
    const up = await twineUpload(`${server.url}/private/`, '__token__', tok.token, [dists['base_lib-0.1-py3-none-any.whl']]);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    assert.equal((await fetch(`${server.url}/private/simple/`)).status, 401);
    const target = await mkdtemp(join(tmpdir(), 'wharf-pip-'));
    const url = new URL(`${server.url}/private/simple/`);
    url.username = '__token__';
    url.password = tok.token;
    const r = await pip(['install', '--index-url', url.toString(), '--target', target, 'base-lib']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
});

describe('the root simple page', () => {
  it('lists a new project shortly after its first upload, and drops a deleted one', async () => {
    const server = await startServer();
    try {
      const data = buildWheel({ name: 'fresh-project', version: '1.0' });
      const res = await fetch(`${server.url}/-/api/v1/repositories/pypi/upload?filename=${wheelFilename({ name: 'fresh-project', version: '1.0' })}`, {
        method: 'POST', body: data, headers: { authorization: server.adminAuth, 'content-type': 'application/octet-stream' },
      });
      assert.equal(res.status, 201);
      const root = async () => (await fetch(`${server.url}/pypi/simple/`, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } }).then((r) => r.json())) as { projects: { name: string }[] };
      let names: string[] = [];
      for (let i = 0; i < 40 && !names.includes('fresh-project'); i++) {
        await new Promise((r) => setTimeout(r, 50));
        names = (await root()).projects.map((p) => p.name);
      }
      assert.deepEqual(names, ['fresh-project']);
      await fetch(`${server.url}/-/api/v1/repositories/pypi/packages/fresh-project`, { method: 'DELETE', headers: { authorization: server.adminAuth } });
      await server.wharf.publisher.flush();
      assert.deepEqual((await root()).projects, []);
    } finally {
      await server.close();
    }
  });
});
