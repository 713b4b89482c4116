// The static tree behind Debian's nginx (and Caddy), configured as docs/static.md says: pip, apt-get and
// pacman install through nginx, which sends what the tree holds without asking Wharf; uploads
// through nginx reach Wharf and are in the tree when they are answered; a repository made
// private leaves the tree; Accept headers nginx cannot decide go to Wharf.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pip, twineUpload } from '../helpers/clients.ts';
import { aptEnv, buildDeb, control, problems } from '../helpers/apt.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';
import { startStaticCaddy, startStaticNginx, type StaticNginx } from '../helpers/static-fronts.ts';
import { curl, httpStatus, keyring, pacman, tinyPackage, trustKey } from './arch-helpers.ts';

describe('the static tree served by nginx, Wharf behind it', { timeout: 300_000 }, () => {
  let server: TestServer;
  let nginx: StaticNginx;
  let dir: string;
  let root: string;
  const api = (p: string, init: RequestInit = {}) =>
    fetch(`${server.url}/-/api/v1${p}`, { ...init, headers: { authorization: server.adminAuth, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
  /** Wharf's GETs and HEADs since `from` whose path starts with `prefix`. */
  const readsAtWharf = (from: number, prefix: string) => server.requests.slice(from).filter((r) => (r.method === 'GET' || r.method === 'HEAD') && r.url.startsWith(prefix));

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-static-it-'));
    // nginx's workers (nobody, when the tests run as root) read the tree: the way there is open.
    await chmod(dir, 0o755);
    root = path.join(dir, 'static');
    await mkdir(root);
    server = await startServer({ staticDir: root });
    await chmod(server.data, 0o755);
    for (const spec of [{ name: 'py', format: 'pypi' }, { name: 'deb', format: 'apt' }, { name: 'pac', format: 'arch' }, { name: 'fs', format: 'files' }, { name: 'secret', format: 'pypi', public: false }]) {
      const r = await api('/repositories', { method: 'POST', body: JSON.stringify(spec) });
      assert.equal(r.status, 201, await r.text());
    }
    nginx = await startStaticNginx(path.join(dir, 'nginx'), root, `127.0.0.1:${server.port}`);
  });
  after(async () => {
    await nginx?.stop();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('pip installs through nginx from the tree; a twine upload through nginx is in it when answered', async () => {
    const files: string[] = [];
    for (const [name, version, deps] of [['static-app', '1.0', ['static-lib']], ['static-lib', '1.0', []]] as const) {
      const f = path.join(dir, wheelFilename({ name, version }));
      await writeFile(f, buildWheel({ name, version, requiresDist: [...deps] }));
      files.push(f);
    }
    const up = await twineUpload(`${nginx.url}/py/`, 'admin', ADMIN_PASSWORD, files);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    // The root page follows a moment later (once per burst), as Wharf's own does.
    await server.wharf.publisher.flush();
    const from = server.requests.length;
    const target = path.join(dir, 'pip-target');
    const r = await pip(['install', '--index-url', `${nginx.url}/py/simple/`, '--target', target, 'static-app']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok((await readdir(target)).some((n) => n.startsWith('static_lib')), 'the dependency came too');
    assert.deepEqual(readsAtWharf(from, '/py/'), [], 'nginx sent pages, metadata and wheels from the tree');

    // Uploaded through nginx, then at once in the tree (and so in the page pip reads).
    const v2 = path.join(dir, wheelFilename({ name: 'static-lib', version: '2.0' }));
    await writeFile(v2, buildWheel({ name: 'static-lib', version: '2.0' }));
    const up2 = await twineUpload(`${nginx.url}/py/`, 'admin', ADMIN_PASSWORD, [v2]);
    assert.equal(up2.code, 0, up2.stdout + up2.stderr);
    const from2 = server.requests.length;
    const page = await fetch(`${nginx.url}/py/simple/static-lib/`, { headers: { accept: 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01' } });
    assert.equal(page.headers.get('content-type'), 'application/vnd.pypi.simple.v1+json');
    assert.match(page.headers.get('vary') ?? '', /Accept/);
    const json = await page.json() as { versions: string[]; files: { filename: string }[] };
    assert.deepEqual(json.versions, ['1.0', '2.0']);
    const wheel = await fetch(`${nginx.url}/py/packages/static-lib/${path.basename(v2)}`);
    assert.equal(wheel.status, 200);
    assert.deepEqual(Buffer.from(await wheel.arrayBuffer()), await readFile(v2));
    assert.deepEqual(readsAtWharf(from2, '/py/'), []);
  });

  it('nginx picks HTML or JSON as Wharf would, gzip-compressed, and leaves what it cannot decide to Wharf', async () => {
    const get = (p: string, headers: Record<string, string>) => fetch(`${nginx.url}${p}`, { headers });
    const from = server.requests.length;
    const asBrowser = await get('/py/simple/', { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'accept-encoding': 'gzip' });
    assert.equal(asBrowser.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(await asBrowser.text(), /static-app/);
    const bare = await fetch(`${nginx.url}/py/simple/static-app/`);
    assert.equal(bare.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.deepEqual(readsAtWharf(from, '/py/'), [], 'decided by nginx');
    // Precompressed: the .gz the tree holds, sent as is.
    const raw = await curlHead(`${nginx.url}/py/simple/static-app/`, 'Accept-Encoding: gzip');
    assert.match(raw, /content-encoding: gzip/i);

    // q-values nginx's map does not weigh, and ?format=: Wharf answers, and answers right.
    const from2 = server.requests.length;
    const weighed = await get('/py/simple/static-app/', { accept: 'text/html;q=0.2, application/vnd.pypi.simple.v1+json;q=0.9' });
    assert.equal(weighed.headers.get('content-type'), 'application/vnd.pypi.simple.v1+json');
    const forced = await get('/py/simple/static-app/?format=json', {});
    assert.equal(forced.headers.get('content-type'), 'application/vnd.pypi.simple.v1+json');
    assert.equal(readsAtWharf(from2, '/py/simple/static-app/').length, 2);
  });

  it('apt-get updates and installs through nginx from the tree', async () => {
    const deb = await buildDeb(dir, 'static-hello', control('static-hello', '1.0-1'));
    const up = await curl(['-u', `admin:${ADMIN_PASSWORD}`, '-T', deb, `${nginx.url}/deb/upload/stable/main/`]);
    assert.equal(httpStatus(up), 201, up.stdout);
    const keyFile = path.join(dir, 'deb.asc');
    await writeFile(keyFile, await (await fetch(`${nginx.url}/deb/key.asc`)).text());
    const env = await aptEnv(path.join(dir, 'apt'), { url: `${nginx.url}/deb`, suite: 'stable', component: 'main', keyFile });
    const from = server.requests.length;
    const update = await env.apt('apt-get', 'update', '-o', 'APT::Update::Error-Mode=any');
    assert.equal(update.code, 0, update.stdout + update.stderr);
    assert.deepEqual(problems(update), []);
    const install = await env.apt('apt-get', 'install', '-y', '--download-only', 'static-hello');
    assert.equal(install.code, 0, install.stdout + install.stderr);
    assert.deepEqual(problems(install), []);
    assert.deepEqual((await readdir(path.join(env.dir, 'cache/archives'))).filter((f) => f.endsWith('.deb')), ['static-hello_1.0-1_amd64.deb']);
    assert.deepEqual(readsAtWharf(from, '/deb/'), [], 'InRelease, by-hash indexes and the .deb came from the tree');

    // A newer version: apt sees it at once through nginx.
    const deb2 = await buildDeb(dir, 'static-hello-2', control('static-hello', '2.0-1'));
    assert.equal(httpStatus(await curl(['-u', `admin:${ADMIN_PASSWORD}`, '-T', deb2, `${nginx.url}/deb/upload/stable/main/`])), 201);
    const again = await env.apt('apt-get', 'update', '-o', 'APT::Update::Error-Mode=any');
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const policy = await env.apt('apt-cache', 'policy', 'static-hello');
    assert.match(policy.stdout, /Candidate: 2\.0-1/, policy.stdout);
  });

  it('pacman syncs and installs through nginx from the tree', async () => {
    const pkg = await tinyPackage(dir, { name: 'statichello', version: '1.0-1' });
    const up = await curl(['-u', `admin:${ADMIN_PASSWORD}`, '-T', pkg, `${nginx.url}/pac/upload/`]);
    assert.equal(httpStatus(up), 201, up.stdout);
    const gpgdir = await keyring(path.join(dir, 'pacman-keys'));
    const keyFile = path.join(dir, 'pac.asc');
    await writeFile(keyFile, await (await fetch(`${nginx.url}/pac/key.asc`)).text());
    const { keys } = await (await api('/repositories/pac/keys')).json() as { keys: { fingerprint: string }[] };
    await trustKey(gpgdir, keyFile, keys[0].fingerprint);
    const p = await pacman(path.join(dir, 'pacman'), gpgdir, 'pac', `${nginx.url}/pac/$arch`);
    const from = server.requests.length;
    await p.ok('-Sy', 'statichello');
    assert.ok((await stat(path.join(p.dir, 'root/usr/bin/statichello'))).isFile());
    assert.deepEqual(readsAtWharf(from, '/pac/'), [], 'the .db, its .sig, the package and its .sig came from the tree');
  });

  it('a file uploaded through nginx is sent from the tree; listings stay with Wharf', async () => {
    const put = await curl(['-u', `admin:${ADMIN_PASSWORD}`, '-T', '-', `${nginx.url}/fs/tools/v1/tool.txt`]);
    assert.ok([200, 201].includes(httpStatus(put)), put.stdout);
    const from = server.requests.length;
    const res = await fetch(`${nginx.url}/fs/tools/v1/tool.txt`);
    assert.equal(res.status, 200);
    assert.deepEqual(readsAtWharf(from, '/fs/'), []);
    const listing = await fetch(`${nginx.url}/fs/tools/v1/`);
    assert.equal(listing.status, 200);
    assert.match(await listing.text(), /tool\.txt/);
    assert.equal(readsAtWharf(from, '/fs/tools/v1/').length, 1, 'the listing came from Wharf');
  });

  it('Caddy with the documented Caddyfile: pip installs from the tree, the same choice of HTML or JSON, the rest to Wharf', async () => {
    const caddy = await startStaticCaddy(path.join(dir, 'caddy'), root, `127.0.0.1:${server.port}`);
    try {
      const from = server.requests.length;
      const target = path.join(dir, 'pip-caddy');
      const r = await pip(['install', '--index-url', `${caddy.url}/py/simple/`, '--target', target, 'static-app']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const json = await fetch(`${caddy.url}/py/simple/static-lib/`, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } });
      assert.equal(json.headers.get('content-type'), 'application/vnd.pypi.simple.v1+json');
      assert.match(json.headers.get('vary') ?? '', /Accept/);
      assert.deepEqual((await json.json() as { versions: string[] }).versions, ['1.0', '2.0']);
      const html = await fetch(`${caddy.url}/py/simple/`);
      assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await curlHead(`${caddy.url}/py/simple/static-app/`, 'Accept-Encoding: gzip'), /content-encoding: gzip/i);
      const api = await fetch(`${caddy.url}/py/pypi/static-lib/json`);
      assert.equal(api.headers.get('content-type'), 'application/json');
      assert.equal((await fetch(`${caddy.url}/fs/tools/v1/tool.txt`)).status, 200);
      assert.deepEqual(readsAtWharf(from, '/py/').concat(readsAtWharf(from, '/fs/')), [], 'Caddy sent them from the tree');

      const from2 = server.requests.length;
      const forced = await fetch(`${caddy.url}/py/simple/static-app/?format=json`);
      assert.equal(forced.headers.get('content-type'), 'application/vnd.pypi.simple.v1+json');
      const listing = await fetch(`${caddy.url}/fs/tools/v1/`);
      assert.match(await listing.text(), /tool\.txt/);
      assert.equal(readsAtWharf(from2, '/').length, 2, 'Wharf answered the forced format and the listing');
      const w = path.join(dir, wheelFilename({ name: 'caddy-up', version: '1.0' }));
      await writeFile(w, buildWheel({ name: 'caddy-up', version: '1.0' }));
      const up = await twineUpload(`${caddy.url}/py/`, 'admin', ADMIN_PASSWORD, [w]);
      assert.equal(up.code, 0, up.stdout + up.stderr);
      assert.equal((await fetch(`${caddy.url}/py/simple/caddy-up/`)).status, 200);
    } finally {
      await caddy.stop();
    }
  });

  it('a private repository is never in the tree, and one made private leaves it before the API answers', async () => {
    const f = path.join(dir, wheelFilename({ name: 'hidden', version: '1.0' }));
    await writeFile(f, buildWheel({ name: 'hidden', version: '1.0' }));
    assert.equal((await twineUpload(`${nginx.url}/secret/`, 'admin', ADMIN_PASSWORD, [f])).code, 0);
    await assert.rejects(stat(path.join(root, 'secret')));
    assert.equal((await fetch(`${nginx.url}/secret/simple/hidden/`)).status, 401);

    const r = await api('/repositories/py', { method: 'PATCH', body: JSON.stringify({ public: false }) });
    assert.equal(r.status, 200, await r.text());
    await assert.rejects(stat(path.join(root, 'py')));
    await assert.rejects(stat(path.join(root, '-/negotiated/py')));
    assert.equal((await fetch(`${nginx.url}/py/simple/static-app/`)).status, 401, 'Wharf answers, and asks who it is');
    assert.equal((await fetch(`${nginx.url}/py/packages/static-lib/${wheelFilename({ name: 'static-lib', version: '1.0' })}`)).status, 401);

    // Public again: back in the tree at once.
    assert.equal((await api('/repositories/py', { method: 'PATCH', body: JSON.stringify({ public: true }) })).status, 200);
    assert.ok((await stat(path.join(root, '-/negotiated/py/simple/static-app/index.html'))).isFile());
  });
});

/** Response headers of a GET through curl (fetch decompresses and hides Content-Encoding). */
async function curlHead(url: string, header: string): Promise<string> {
  const r = await curl(['-s', '-o', '/dev/null', '-D', '-', '-H', header, url]);
  return r.stdout;
}
