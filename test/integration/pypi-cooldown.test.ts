// Cooldown (minAge) on PyPI proxies and groups, driven by pip: an upstream whose project `cool`
// has 1.0 uploaded long ago and 2.0 uploaded now (PEP 700 upload-time on a JSON simple page,
// from a fixture server: a hosted Wharf cannot be given an old upload time) and a project
// `plain` on an HTML page without times (its age is the time the proxy first saw it).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pip, run } from '../helpers/clients.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

async function api(server: TestServer, method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}/-/api/v1${path}`, {
    method, headers: { authorization: server.adminAuth, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

const OLD = '2020-01-01T00:00:00Z';
const wheels = new Map<string, Buffer>();
for (const [name, version] of [['cool', '1.0'], ['cool', '2.0'], ['plain', '1.0']]) wheels.set(wheelFilename({ name, version }), buildWheel({ name, version }));
const sha = (f: string) => createHash('sha256').update(wheels.get(f)!).digest('hex');
const COOL1 = wheelFilename({ name: 'cool', version: '1.0' });
const COOL2 = wheelFilename({ name: 'cool', version: '2.0' });
const PLAIN = wheelFilename({ name: 'plain', version: '1.0' });

describe('PyPI cooldown (minAge) on proxies and groups', () => {
  let upstream: Server;
  let up = '';
  let wharf: TestServer;
  const fresh = new Date().toISOString();
  const tmp: string[] = [];

  const mk = async (body: object) => assert.equal((await api(wharf, 'POST', '/repositories', body)).status, 201, JSON.stringify(body));
  const install = async (repo: string, project: string) => {
    const target = await mkdtemp(join(tmpdir(), 'wharf-cool-'));
    tmp.push(target);
    const r = await pip(['install', '--no-deps', '--index-url', `${wharf.url}/${repo}/simple/`, '--target', target, project]);
    const got = (await readdir(target)).filter((n) => n.endsWith('.dist-info'));
    return { code: r.code, stderr: r.stderr, got };
  };

  before(async () => {
    upstream = createServer((req, res) => {
      const file = (f: string, time: string | null) => ({ filename: f, url: `/f/${f}`, hashes: { sha256: sha(f) }, size: wheels.get(f)!.length, ...(time ? { 'upload-time': time } : {}) });
      if (req.url === '/simple/cool/') {
        res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json' })
          .end(JSON.stringify({ meta: { 'api-version': '1.1' }, name: 'cool', versions: ['1.0', '2.0'], files: [file(COOL1, OLD), file(COOL2, fresh)] }));
      } else if (req.url === '/simple/plain/') {
        res.writeHead(200, { 'content-type': 'text/html' }).end(`<html><body><a href="/f/${PLAIN}#sha256=${sha(PLAIN)}">${PLAIN}</a></body></html>`);
      } else if (req.url === '/pypi/cool/json') {
        // pypi.org's shape; 2.0's file carries no time of its own here: the page's applies.
        const f = (n: string, t: string | null) => ({ filename: n, url: `/f/${n}`, ...(t ? { upload_time_iso_8601: t } : {}) });
        res.writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ info: { name: 'cool', version: '2.0' }, urls: [f(COOL2, null)], releases: { '1.0': [f(COOL1, OLD)], '2.0': [f(COOL2, null)] } }));
      } else if (req.url?.startsWith('/f/') && wheels.has(req.url.slice(3))) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(wheels.get(req.url.slice(3)));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    up = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/simple/`;

    wharf = await startServer();
    await mk({ name: 'local', format: 'pypi' });
    await mk({ name: 'plainup', format: 'pypi', kind: 'proxy', options: { upstream: up, metadataTtl: 0, timeout: 5 } });
    await mk({ name: 'cooled', format: 'pypi', kind: 'proxy', options: { upstream: up, metadataTtl: 0, timeout: 5, minAge: '7d' } });
    await mk({ name: 'cooledx', format: 'pypi', kind: 'proxy', options: { upstream: up, metadataTtl: 0, timeout: 5, minAge: '7d', minAgeExempt: ['Cool'] } });
    await mk({ name: 'grp', format: 'pypi', kind: 'group', options: { members: ['local', 'plainup'], minAge: '36h' } });
    await mk({ name: 'grpx', format: 'pypi', kind: 'group', options: { members: ['local', 'plainup'], minAge: '36h', minAgeExempt: ['cool'] } });
    // A fresh upload to the hosted member: exempt from the group's cooldown.
    const res = await fetch(`${wharf.url}/-/api/v1/repositories/local/upload?filename=${wheelFilename({ name: 'inhouse', version: '2.0' })}`, {
      method: 'POST', body: buildWheel({ name: 'inhouse', version: '2.0' }), headers: { authorization: wharf.adminAuth, 'content-type': 'application/octet-stream' },
    });
    assert.equal(res.status, 201, await res.text());
  });
  after(async () => {
    await wharf.close();
    await new Promise((r) => upstream.close(r));
    for (const d of tmp) await rm(d, { recursive: true, force: true });
  });

  it('refuses a minAge or minAgeExempt it cannot read with a 400 that says what it takes', async () => {
    for (const minAge of ['7 days', '7', '-1d', '7x', 7, true, '99999d']) {
      const r = await api(wharf, 'POST', '/repositories', { name: 'bad', format: 'pypi', kind: 'proxy', options: { upstream: up, minAge } });
      assert.equal(r.status, 400, JSON.stringify(minAge));
      assert.match(r.json.error?.message ?? JSON.stringify(r.json), /minAge must be a duration such as "7d"/);
    }
    const r = await api(wharf, 'PATCH', '/repositories/grp', { options: { minAgeExempt: 'cool' } });
    assert.equal(r.status, 400);
    assert.match(JSON.stringify(r.json), /minAgeExempt must be a list/);
    assert.equal((await api(wharf, 'POST', '/repositories', { name: 'bad', format: 'pypi', options: { minAge: '7d' } })).status, 400, 'a hosted repository has no cooldown');
    // APT and Arch have theirs (apt-cooldown, arch-cooldown tests): the duration is checked the same way.
    for (const format of ['apt', 'arch']) {
      const r = await api(wharf, 'POST', '/repositories', { name: 'bad', format, kind: 'proxy', options: { upstream: 'http://127.0.0.1:9/', minAge: 'soon' } });
      assert.equal(r.status, 400, format);
      assert.match(JSON.stringify(r.json), /minAge must be a duration/);
    }
  });

  it('pip through a proxy with minAge installs the old release; with the project exempt, the new one', async () => {
    assert.deepEqual((await install('plainup', 'cool')).got, ['cool-2.0.dist-info'], 'without a cooldown the newest');
    const cooled = await install('cooled', 'cool');
    assert.equal(cooled.code, 0, cooled.stderr);
    assert.deepEqual(cooled.got, ['cool-1.0.dist-info']);
    assert.deepEqual((await install('cooledx', 'cool')).got, ['cool-2.0.dist-info']);
  });

  it('hides young files from the HTML and JSON pages and the JSON API, and refuses their download with a 404 that says why', async () => {
    const html = await (await fetch(`${wharf.url}/cooled/simple/cool/`, { headers: { accept: 'text/html' } })).text();
    assert.match(html, /cool-1\.0/);
    assert.doesNotMatch(html, /cool-2\.0/);
    const json = await (await fetch(`${wharf.url}/cooled/simple/cool/`, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } })).json() as { files: { filename: string }[]; versions: string[] };
    assert.deepEqual(json.files.map((f) => f.filename), [COOL1]);
    assert.ok(!json.versions.includes('2.0'));
    const apiDoc = await (await fetch(`${wharf.url}/cooled/pypi/cool/json`)).json() as { releases: Record<string, unknown[]>; urls: unknown[] };
    assert.deepEqual(Object.keys(apiDoc.releases), ['1.0']);
    assert.deepEqual(apiDoc.urls, []);
    assert.equal((await fetch(`${wharf.url}/cooled/pypi/cool/2.0/json`)).status, 404);
    assert.equal((await fetch(`${wharf.url}/cooled/pypi/cool/1.0/json`)).status, 200);
    for (const url of [`${wharf.url}/cooled/packages/cool/${COOL2}`, `${wharf.url}/grp/packages/cool/${COOL2}`]) {
      const res = await fetch(url);
      assert.equal(res.status, 404, url);
      assert.match(await res.text(), /younger than (cooled|grp)'s minAge \((7d|36h)\)/);
    }
    // Cached through the proxy without a cooldown, it is still refused by the group's and the cooled proxy's.
    assert.equal((await fetch(`${wharf.url}/plainup/packages/cool/${COOL2}`)).status, 200);
    assert.equal((await fetch(`${wharf.url}/grp/packages/cool/${COOL2}`)).status, 404);
    assert.equal((await fetch(`${wharf.url}/cooled/packages/cool/${COOL2}`)).status, 404);
    assert.equal((await fetch(`${wharf.url}/cooledx/packages/cool/${COOL2}`)).status, 200);
  });

  it('a group applies its minAge to its proxy members, not to its hosted member; minAgeExempt lets a project through', async () => {
    const g = await install('grp', 'cool');
    assert.equal(g.code, 0, g.stderr);
    assert.deepEqual(g.got, ['cool-1.0.dist-info']);
    assert.deepEqual((await install('grpx', 'cool')).got, ['cool-2.0.dist-info']);
    assert.deepEqual((await install('grp', 'inhouse')).got, ['inhouse-2.0.dist-info'], 'hosted members are exempt');
  });

  it('an upstream without upload times: the file is as old as the time the proxy first saw it', async () => {
    // plainup lists it (and records the first-seen time); the group hides it until 36h later.
    assert.deepEqual((await install('plainup', 'plain')).got, ['plain-1.0.dist-info']);
    const r = await install('grp', 'plain');
    assert.notEqual(r.code, 0);
    assert.deepEqual(r.got, []);
    assert.equal((await fetch(`${wharf.url}/grp/packages/plain/${PLAIN}`)).status, 404);
  });

  it('mirror sync of a proxy with minAge mirrors what the cooldown lets through', async () => {
    await mk({ name: 'cmir', format: 'pypi', kind: 'proxy', options: { upstream: up, metadataTtl: 0, timeout: 5, minAge: '7d' } });
    const dir = await mkdtemp(join(tmpdir(), 'wharf-cool-'));
    tmp.push(dir);
    await writeFile(join(dir, 'requirements.txt'), 'cool\n');
    const r = await run(process.execPath, [join(import.meta.dirname, '../../src/cli/main.ts'), 'mirror', 'sync', 'cmir', '-r', join(dir, 'requirements.txt')], {
      env: { ...process.env, WHARF_URL: wharf.url, WHARF_USER: 'admin', WHARF_PASSWORD: ADMIN_PASSWORD },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const cached = (await wharf.wharf.store.listFilesByPrefix(wharf.wharf.requireRepo('cmir').id, 'packages/')).filter((f) => f.meta.kind === 'dist').map((f) => f.filename);
    assert.deepEqual(cached, [COOL1]);
  });

  it('lifting the cooldown shows the files at once (no page rendered under it is reused)', async () => {
    assert.equal((await api(wharf, 'PATCH', '/repositories/cooled', { options: { minAge: null } })).status, 200);
    assert.deepEqual((await install('cooled', 'cool')).got, ['cool-2.0.dist-info']);
    assert.equal((await api(wharf, 'PATCH', '/repositories/cooled', { options: { minAge: '7d' } })).status, 200);
    assert.deepEqual((await install('cooled', 'cool')).got, ['cool-1.0.dist-info']);
  });
});
