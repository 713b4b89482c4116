// Pages for browsers at / and /<repo>/: package clients keep their answers byte for byte
// (compared with the same data served without pages), pages name only what the viewer may
// read, the response cache never hands one viewer's or one Host's page to another, and the
// set-up snippets work verbatim with pip, twine and apt-get.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildServer, type WharfServer } from '../../src/server/app.ts';
import { DEFAULTS, type Config } from '../../src/server/config.ts';
import { aptEnv, buildDeb, control, problems } from '../helpers/apt.ts';
import { pip, pythonExecutable, run } from '../helpers/clients.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { ADMIN_PASSWORD, basic } from '../helpers/server.ts';
import { keyring, pacman, tinyPackage } from './arch-helpers.ts';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const PIP = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
const ADMIN = basic('admin', ADMIN_PASSWORD);

interface Running { app: WharfServer['app']; wharf: WharfServer['wharf']; listeners: WharfServer['listeners']; url: string; close(): Promise<void> }

async function start(data: string, opts: { pages?: boolean; config?: Partial<Config> } = {}): Promise<Running> {
  const config: Config = { ...DEFAULTS, data, port: 0, logLevel: 'warn', adminPassword: ADMIN_PASSWORD, ...opts.config };
  const { app, wharf, listeners } = await buildServer(config, { logger: { level: process.env.WHARF_TEST_LOG ?? 'silent' }, pages: opts.pages });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  return {
    app, wharf, listeners, url,
    async close() {
      const idle = setInterval(() => app.server.closeIdleConnections(), 50);
      await app.close().finally(() => clearInterval(idle));
    },
  };
}

async function api(s: Running, method: string, path: string, body?: unknown, auth = ADMIN) {
  const res = await fetch(`${s.url}/-/api/v1${path}`, { method, headers: { authorization: auth, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
  return res.json() as Promise<Record<string, unknown>>;
}

async function upload(s: Running, repo: string, filename: string, bytes: Buffer) {
  const res = await fetch(`${s.url}/-/api/v1/repositories/${repo}/upload?filename=${encodeURIComponent(filename)}`, { method: 'POST', headers: { authorization: ADMIN, 'content-type': 'application/octet-stream' }, body: bytes });
  assert.ok(res.status < 300, `${filename}: ${res.status} ${await res.text()}`);
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
const unescape = (s: string) => s.replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e]);

/** The code the page gives for a file, e.g. `~/.pypirc`. */
function fileSnippet(page: string, file: string): string {
  const re = /<p class="file">File: <code>([^<]*)<\/code><\/p>\n<div class="copyable"><pre[^>]*><code>([^<]*)<\/code><\/pre>/g;
  for (const m of page.matchAll(re)) if (unescape(m[1]) === file) return unescape(m[2]);
  throw new Error(`no snippet for ${file} in the page`);
}

/** The code block after a step whose text starts with `text`. */
function stepCode(page: string, text: string): string {
  const at = page.indexOf(`<p>${text}`);
  assert.ok(at >= 0, `no step "${text}"`);
  const m = /<pre[^>]*><code>([^<]*)<\/code><\/pre>/.exec(page.slice(at));
  return unescape(m![1]);
}

/** A browser's GET (over node:http, which sends the Host it is given; fetch does not). */
function page(s: Pick<Running, 'url'>, path: string, auth?: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; type: string | undefined; headers: Headers; body: string }>((resolve, reject) => {
    const req = request(`${s.url}${path}`, { headers: { accept: BROWSER, ...(auth ? { authorization: auth } : {}), ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        resolve({ status: res.statusCode!, type: res.headers['content-type'], headers: h, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('pages for browsers', () => {
  let work: string;
  let data: string;
  let s: Running;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'wharf-pages-'));
    data = join(work, 'data');
    // Seeded without pages, recorded, then served again with pages (the `before`/`after` of every answer).
    s = await start(data, { pages: false });
    const repos = [
      { name: 'tarballs', format: 'files' },
      { name: 'debs', format: 'apt' },
      { name: 'pkgs', format: 'arch' },
      { name: 'secret', format: 'pypi', public: false },
      { name: 'vault', format: 'files', public: false },
      { name: 'all', format: 'pypi', kind: 'group', options: { members: ['pypi', 'secret'], uploadTo: 'pypi' } },
    ];
    for (const r of repos) await api(s, 'POST', '/repositories', r);
    await upload(s, 'pypi', wheelFilename({ name: 'Demo_Pkg', version: '1.0' }), buildWheel({ name: 'Demo_Pkg', version: '1.0' }));
    await upload(s, 'secret', wheelFilename({ name: 'hidden-pkg', version: '2.0' }), buildWheel({ name: 'hidden-pkg', version: '2.0' }));
    await upload(s, 'debs', 'hello_1.0_amd64.deb', await readFile(await buildDeb(work, 'hello', control('hello', '1.0'))));
    await upload(s, 'pkgs', 'tool-1.0-1-x86_64.pkg.tar.zst', await readFile(await tinyPackage(work, { name: 'tool', version: '1.0-1' })));
    const put = await fetch(`${s.url}/tarballs/releases/tool-1.0.tar.gz`, { method: 'PUT', headers: { authorization: ADMIN }, body: 'tarball\n' });
    assert.equal(put.status, 201);
    await api(s, 'POST', '/users', { name: 'reader', password: 'reader-password' });
    await api(s, 'PUT', '/users/reader/grants', { repo: 'secret', permission: 'read' });
    await api(s, 'POST', '/users', { name: 'outsider', password: 'outsider-password' });
    await s.wharf.publisher.flush();
  });
  after(async () => {
    await s.close();
    await rm(work, { recursive: true, force: true });
  });

  it('answers package clients byte for byte as a server without pages does', async () => {
    const cases: [string, string | null][] = [
      ['/', '*/*'], ['/', null], ['/', PIP], ['/', 'application/json'],
      ['/pypi/', '*/*'], ['/pypi/', PIP], ['/pypi/simple/', PIP], ['/pypi/simple/', BROWSER], ['/pypi/simple/', 'text/html'],
      ['/pypi/simple/demo-pkg/', PIP], ['/pypi/simple/demo-pkg/', 'text/html'], ['/all/simple/demo-pkg/', PIP],
      ['/tarballs/', '*/*'], ['/tarballs/', BROWSER], ['/tarballs/', 'application/json'], ['/tarballs/releases/', BROWSER],
      ['/tarballs/releases/tool-1.0.tar.gz', BROWSER],
      ['/debs/', '*/*'], ['/debs/', null], ['/debs/dists/stable/InRelease', null], ['/debs/dists/stable/main/binary-amd64/Packages', '*/*'], ['/debs/key.asc', '*/*'],
      ['/pkgs/', '*/*'], ['/pkgs/x86_64/pkgs.db', '*/*'], ['/pkgs/key.asc', null],
      ['/secret/', '*/*'], ['/vault/', '*/*'], ['/nothing/', BROWSER], ['/pypi', BROWSER],
      // Files and documents the package pages link to, as clients and browsers fetch them.
      ['/pypi/pypi/demo-pkg/json', '*/*'], ['/pypi/pypi/demo-pkg/json', BROWSER], ['/pypi/packages/demo-pkg/demo_pkg-1.0-py3-none-any.whl', PIP],
      ['/pypi/packages/demo-pkg/demo_pkg-1.0-py3-none-any.whl', BROWSER], ['/debs/pool/main/h/hello/hello_1.0_amd64.deb', null],
      ['/pkgs/x86_64/tool-1.0-1-x86_64.pkg.tar.zst', '*/*'], ['/pkgs/x86_64/tool-1.0-1-x86_64.pkg.tar.zst', BROWSER],
    ];
    const answers = async () => {
      const out: string[] = [];
      for (const [path, accept] of cases) {
        // curl's, pip's, apt's and pacman's Accept headers, and none at all.
        const headers: Record<string, string> = { 'accept-encoding': 'identity' };
        if (accept !== null) headers.accept = accept;
        const res = await fetch(`${s.url}${path}`, { headers, redirect: 'manual' });
        const body = Buffer.from(await res.arrayBuffer()).toString('base64');
        out.push(`${path} ${accept}: ${res.status} ${res.headers.get('content-type')} ${res.headers.get('etag')} ${res.headers.get('location')} ${body}`);
      }
      return out;
    };
    const before = await answers();
    // What changes: browsers at a repository root.
    assert.equal((await page(s, '/pypi/')).status, 405); // twine's POST lives there
    await s.close();
    s = await start(data);
    assert.deepEqual(await answers(), before);
    const after = await page(s, '/pypi/');
    assert.equal(after.status, 200);
    assert.match(after.body, /pip install --index-url/);
  });

  it('lists only the repositories the viewer may read, with format, kind and the server\'s version', async () => {
    const names = (body: string) => [...body.matchAll(/<tr><th scope="row"><a href="\/([^/"]+)\/">/g)].map((m) => m[1]);
    const anonymous = await page(s, '/');
    assert.equal(anonymous.status, 200);
    assert.equal(anonymous.type, 'text/html; charset=utf-8');
    assert.deepEqual(names(anonymous.body), ['all', 'debs', 'pkgs', 'pypi', 'tarballs']);
    assert.match(anonymous.body, /<td>arch<\/td><td>hosted<\/td>/);
    assert.match(anonymous.body, /<td>pypi<\/td><td>group<\/td>/);
    assert.match(anonymous.body, /<footer>Wharf \d+\.\d+\.\d+<\/footer>/);
    assert.ok(!anonymous.body.includes('secret') && !anonymous.body.includes('vault'));
    assert.deepEqual(names((await page(s, '/', basic('reader', 'reader-password'))).body), ['all', 'debs', 'pkgs', 'pypi', 'secret', 'tarballs']);
    assert.deepEqual(names((await page(s, '/', ADMIN)).body), ['all', 'debs', 'pkgs', 'pypi', 'secret', 'tarballs', 'vault']);
    // Sign in: Basic auth has no form, so /?login asks the browser for credentials.
    const login = await page(s, '/?login');
    assert.equal(login.status, 401);
    assert.match(login.headers.get('www-authenticate') ?? '', /^Basic /);
    assert.equal((await page(s, '/?login', ADMIN)).status, 200);
    // A group lists the members this viewer may read, in order.
    const members = (body: string) => [...body.matchAll(/<li><a href="\/([^/"]+)\/">/g)].map((m) => m[1]);
    assert.deepEqual(members((await page(s, '/all/')).body), ['pypi']);
    assert.deepEqual(members((await page(s, '/all/', basic('reader', 'reader-password'))).body), ['pypi', 'secret']);
    // A private repository's page needs read on it, as its packages do.
    assert.equal((await page(s, '/secret/')).status, 401);
    assert.equal((await page(s, '/vault/?setup', basic('reader', 'reader-password'))).status, 403);
    const secret = await page(s, '/secret/', basic('reader', 'reader-password'));
    assert.equal(secret.status, 200);
    assert.match(fileSnippet(secret.body, '~/.config/pip/pip.conf'), /index-url = http:\/\/__token__:YOUR_TOKEN@127\.0\.0\.1:\d+\/secret\/simple\//);
    assert.ok(!secret.body.includes('reader-password') && !secret.body.includes(ADMIN_PASSWORD));
  });

  it('never shows a private repository, its packages or its search hits to viewers without read', async () => {
    const READER = basic('reader', 'reader-password');
    const OUTSIDER = basic('outsider', 'outsider-password');
    const json = async (path: string, auth?: string) => {
      const res = await fetch(`${s.url}${path}`, { headers: { accept: 'application/json', ...(auth ? { authorization: auth } : {}) } });
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      return { text: await res.clone().text(), body: await res.json() as { total: number; results: { name: string; repo: string; url: string }[] } };
    };
    for (const [who, auth] of [['anonymous', undefined], ['outsider', OUTSIDER]] as const) {
      const pages = [
        await page(s, '/', auth), await page(s, '/all/', auth), await page(s, '/pypi/', auth), await page(s, '/-/search', auth),
        await page(s, '/-/search?q=hidden', auth), await page(s, '/-/search?q=pkg', auth), await page(s, '/-/search?q=hidden&repo=all', auth),
        await page(s, '/-/package/pypi/demo-pkg', auth),
      ];
      for (const p of pages) {
        assert.equal(p.status, 200);
        assert.ok(!/secret|hidden-pkg|vault/i.test(p.body), `${who} sees a private name in ${p.body.slice(p.body.indexOf('<main'), p.body.indexOf('<main') + 3000)}`);
      }
      // Search as you type answers the same way.
      for (const q of ['hidden', 'hidden-pkg', 'pkg', 'hidden&repo=secret', 'hidden&repo=all', 'hidden&format=pypi']) {
        const r = await json(`/-/search?q=${q}`, auth);
        assert.ok(!/secret|hidden-pkg/.test(r.text.replace(/"(query|pageUrl)":"[^"]*"/g, '')), `${who} q=${q}: ${r.text}`);
      }
      // A repository that exists but may not be read answers exactly as one that does not.
      const named = (await json('/-/search?q=hidden&repo=secret', auth)).text;
      const missing = (await json('/-/search?q=hidden&repo=nosuch', auth)).text;
      assert.equal(named.replaceAll('secret', 'X'), missing.replaceAll('nosuch', 'X'));
      const privatePkg = await page(s, '/-/package/secret/hidden-pkg', auth);
      const noRepo = await page(s, '/-/package/nosuch/hidden-pkg', auth);
      const viaGroup = await page(s, '/-/package/all/hidden-pkg', auth);
      for (const p of [privatePkg, noRepo, viaGroup]) assert.equal(p.status, 404, `${who}: ${p.status}`);
      assert.equal(privatePkg.body.replaceAll('secret', 'X'), noRepo.body.replaceAll('nosuch', 'X'));
      assert.equal(privatePkg.headers.get('cache-control'), 'no-store');
    }
    // The reader with a grant sees it everywhere, and its group shows the member's package.
    assert.ok((await page(s, '/', READER)).body.includes('>secret</a>'));
    const hit = await json('/-/search?q=hidden', READER);
    assert.deepEqual(hit.body.results.map((r) => [r.repo, r.name, r.url]), [['secret', 'hidden-pkg', '/-/package/secret/hidden-pkg']]);
    assert.match((await page(s, '/-/search?q=Hidden_Pkg', READER)).body, /<a href="\/-\/package\/secret\/hidden-pkg">hidden-pkg<\/a>/);
    assert.deepEqual((await json('/-/search?q=hidden&repo=all', READER)).body.results.map((r) => r.name), ['hidden-pkg']);
    assert.equal((await json('/-/search?q=hidden&format=apt', READER)).body.total, 0);
    const own = await page(s, '/-/package/secret/hidden-pkg', READER);
    assert.equal(own.status, 200);
    assert.match(own.body, /<h1>hidden-pkg<\/h1>/);
    assert.match(own.body, /private, no-cache|<h1>/);
    assert.equal(own.headers.get('cache-control'), 'private, no-cache');
    const group = await page(s, '/-/package/all/hidden-pkg', READER);
    assert.equal(group.status, 200);
    assert.match(group.body, /from its member <a href="\/secret\/">secret<\/a>/);
    assert.match((await page(s, '/all/', READER)).body, /<a href="\/-\/package\/secret\/hidden-pkg">hidden-pkg<\/a>/);
    // The private package's pinned command, with a token in place of the placeholder, installs it.
    const token = (await api(s, 'POST', '/tokens', { name: 'page-pin', repos: ['secret'], permission: 'read' })).token as string;
    const command = stepCode(own.body, 'Install exactly this release');
    assert.equal(command, `pip install --index-url ${s.url.replace('http://', 'http://__token__:YOUR_TOKEN@')}/secret/simple/ hidden-pkg==2.0`);
    const target = join(work, 'pinned-private');
    const pinned = await pip([...command.replace('YOUR_TOKEN', token).split(' ').slice(1), '--target', target]);
    assert.equal(pinned.code, 0, `${pinned.stdout}\n${pinned.stderr}`);
    assert.match(pinned.stdout, /Successfully installed hidden-pkg-2\.0/);
    // After the reader's visit, anonymous viewers still get the 404 (nothing private was cached).
    assert.equal((await page(s, '/-/package/secret/hidden-pkg')).status, 404);
    assert.ok(!(await page(s, '/-/search?q=hidden')).body.includes('hidden-pkg<'));
  });

  it('shows each format\'s package page, found by the name as people type it, with install commands for the exact version', async () => {
    const py = await page(s, '/-/package/pypi/Demo.Pkg');
    assert.equal(py.status, 200);
    assert.match(py.body, /<h1>Demo_Pkg<\/h1>/);
    assert.equal(stepCode(py.body, 'Install exactly this release'), `pip install --index-url ${s.url}/pypi/simple/ demo-pkg==1.0`);
    assert.match(py.body, /<code class="hash" data-copy="SHA-256 of demo_pkg-1\.0-py3-none-any\.whl">[0-9a-f]{64}<\/code>/);
    assert.match(py.body, /<td>admin<\/td><\/tr>/, 'the uploader');
    assert.match(py.body, /<section class="version" id="v-1\.0"/);
    const deb = await page(s, '/-/package/debs/hello');
    assert.equal(stepCode(deb.body, 'Install exactly this version'), 'sudo apt-get install hello=1.0');
    assert.match(deb.body, /<span class="badge">amd64<\/span><span class="badge">stable\/main<\/span>/);
    const arch = await page(s, '/-/package/pkgs/tool');
    assert.equal(stepCode(arch.body, 'pacman installs the version'), 'sudo pacman -S pkgs/tool');
    assert.equal(stepCode(arch.body, 'Exactly this version'), `sudo pacman -U ${s.url}/pkgs/x86_64/tool-1.0-1-x86_64.pkg.tar.zst`);
    // Package names are exact outside PyPI; a files repository has no packages.
    assert.equal((await page(s, '/-/package/pkgs/Tool')).status, 404);
    assert.equal((await page(s, '/-/package/tarballs/releases')).status, 404);
    // The repository page lists its packages, linking their pages.
    assert.match((await page(s, '/pypi/')).body, /<a href="\/-\/package\/pypi\/demo-pkg">Demo_Pkg<\/a>/);
    assert.match((await page(s, '/debs/')).body, /<a href="\/-\/package\/debs\/hello">hello<\/a>/);
    // Static files: hashed URLs cached for a year, the CSP allows nothing inline.
    const css = /<link rel="stylesheet" href="(\/-\/static\/wharf-[\w-]{16}\.css)">/.exec(py.body)![1];
    const js = /<script src="(\/-\/static\/wharf-[\w-]{16}\.js)" defer><\/script>/.exec(py.body)![1];
    for (const [url, type] of [[css, 'text/css'], [js, 'text/javascript']]) {
      const res = await fetch(`${s.url}${url}`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', new RegExp(`^${type}`));
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal((await fetch(`${s.url}${url}`, { headers: { 'if-none-match': res.headers.get('etag')! } })).status, 304);
    }
    assert.equal((await fetch(`${s.url}/-/static/wharf-AAAAAAAAAAAAAAAA.css`)).status, 404);
    assert.equal(py.headers.get('content-security-policy'), "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
    assert.ok(!/<style|style="|<script>|\son\w+="/.test(py.body), 'no inline style or script');
  });

  it('shows a proxy\'s upstream without its credentials, what it has cached and when the upstream last answered', async () => {
    await api(s, 'POST', '/repositories', { name: 'mirror', format: 'pypi', kind: 'proxy', options: { upstream: 'http://127.0.0.1:9/simple/', username: 'user', password: 'upstream-secret', offline: true } });
    const body = (await page(s, '/mirror/')).body;
    assert.match(body, /<dt>Upstream<\/dt><dd><code>http:\/\/127\.0\.0\.1:9\/simple\/<\/code> <span class="badge warn">offline: never contacted<\/span><\/dd>/);
    assert.ok(!body.includes('upstream-secret') && !body.includes('user:'));
    assert.match(body, /<dt>Upstream last reached<\/dt><dd>never<\/dd>/);
    assert.match(body, /<dt>Cached<\/dt><dd>0 index documents, 0 packages, 0 files \(0 B\)<\/dd>/);
    assert.equal((await fetch(`${s.url}/-/api/v1/repositories/mirror`, { method: 'DELETE', headers: { authorization: ADMIN } })).status, 204);
  });

  it('paginates and sorts a repository\'s packages, 50 a page', async () => {
    const repo = s.wharf.requireRepo('pypi');
    for (let i = 0; i < 55; i++) {
      const name = `bulk-${String(i).padStart(2, '0')}`;
      await s.wharf.services.ingest(repo, { uploader: 'admin', staged: await s.wharf.blobs.stageBuffer(buildWheel({ name, version: '1.0', summary: `bulk package ${i}` })), filename: wheelFilename({ name, version: '1.0' }), fields: {} });
    }
    await s.wharf.publisher.flush();
    const listed = (body: string) => [...body.matchAll(/<tr><th scope="row"><a href="\/-\/package\/pypi\/([^"]+)">/g)].map((m) => m[1]);
    const first = await page(s, '/pypi/');
    const total = (await s.wharf.catalog.repoSummaries()).get(repo.id)!.packages;
    assert.ok(total >= 56);
    assert.match(first.body, new RegExp(`${total} packages`));
    const one = listed(first.body);
    assert.equal(one.length, 50);
    assert.deepEqual(one, [...one].sort());
    const two = listed((await page(s, '/pypi/?page=2')).body);
    assert.equal(one.length + two.length, total);
    assert.ok(two.every((n) => n > one.at(-1)!));
    assert.match(first.body, /<a href="\/pypi\/\?page=2&amp;sort=name" rel="next">Next<\/a>/);
    const newest = listed((await page(s, '/pypi/?sort=updated')).body);
    assert.equal(newest[0], 'bulk-54');
    assert.deepEqual(listed((await page(s, '/pypi/?page=99')).body), []);
    // Search pages too: 20 a page.
    const res = await fetch(`${s.url}/-/search.json?q=bulk&page=3`);
    const answer = await res.json() as { total: number; page: number; results: unknown[] };
    assert.deepEqual([answer.total, answer.page, answer.results.length], [55, 3, 15]);
  });

  it('keeps a files repository\'s listing at its root and puts its set-up at ?setup', async () => {
    const listing = await page(s, '/tarballs/');
    assert.match(listing.body, /<title>Index of \/tarballs\/<\/title>/);
    const setup = await page(s, '/tarballs/?setup');
    assert.match(setup.body, /<h1>tarballs<\/h1>/);
    assert.match(stepCode(setup.body, 'Download a file'), /^curl -fO http:\/\/127\.0\.0\.1:\d+\/tarballs\/path\/to\/file\.tar\.gz$/);
    assert.match(setup.body, /<a href="\/tarballs\/">browse the files<\/a>/);
    assert.match((await page(s, '/')).body, /<a href="\/tarballs\/\?setup">set-up<\/a>/);
    // The commands work: upload with the page's PUT, download with its GET.
    const put = stepCode(setup.body, 'Upload a file').replace('__token__:YOUR_TOKEN', `admin:${ADMIN_PASSWORD}`).replace('-T file.tar.gz', `-T ${join(work, 'hello.deb')}`);
    const up = await run('sh', ['-c', put]);
    assert.equal(up.code, 0, up.stderr);
    const got = await fetch(`${s.url}/tarballs/path/to/hello.deb`);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), await readFile(join(work, 'hello.deb')));
  });

  it('caches pages for anonymous viewers only, and never across Hosts', async () => {
    const cache = (s.app as unknown as { responseCache: { hits: number } }).responseCache;
    assert.ok((await page(s, '/', ADMIN)).body.includes('vault'));
    assert.ok(!(await page(s, '/')).body.includes('vault'), 'an administrator\'s page is not shown to anonymous viewers');
    const hits = cache.hits;
    const again = await page(s, '/');
    assert.equal(cache.hits, hits + 1, 'the anonymous page came from the response cache');
    assert.ok(!again.body.includes('vault'));
    assert.ok((await page(s, '/', ADMIN)).body.includes('vault'), 'credentials bypass the cache');
    // Host is the request's own: a page made for one Host is not shown to another.
    const evil = await page(s, '/pypi/', undefined, { host: 'evil.example:8080' });
    assert.match(evil.body, /index-url = http:\/\/evil\.example:8080\/pypi\/simple\//);
    const own = await page(s, '/pypi/');
    assert.match(own.body, new RegExp(`index-url = ${s.url}/pypi/simple/`));
    // A Host that is not a host name is not echoed.
    const odd = await page(s, '/pypi/', undefined, { host: 'a"b<c>' });
    assert.ok(!odd.body.includes('a"b') && !odd.body.includes('<c>'));
    assert.match(odd.body, /index-url = http:\/\/127\.0\.0\.1:\d+\/pypi\/simple\//);
    // Revalidation: the page's ETag answers 304.
    const etag = own.headers.get('etag')!;
    const res = await fetch(`${s.url}/pypi/`, { headers: { accept: BROWSER, 'if-none-match': etag } });
    assert.equal(res.status, 304);
    assert.equal(own.headers.get('vary'), 'Accept, Authorization, Cookie');
    assert.match(own.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  });

  it('believes X-Forwarded-Proto and -Host only from trusted proxies', async () => {
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'pkgs.example.org' };
    assert.match((await page(s, '/pypi/', undefined, forwarded)).body, /index-url = http:\/\/127\.0\.0\.1:\d+\/pypi\/simple\//);
    await s.close();
    s = await start(data, { config: { trustedProxies: ['127.0.0.1'] } });
    const behind = await page(s, '/pypi/', undefined, forwarded);
    assert.match(behind.body, /index-url = https:\/\/pkgs\.example\.org\/pypi\/simple\//);
    assert.match(fileSnippet(behind.body, '~/.pypirc'), /repository = https:\/\/pkgs\.example\.org\/pypi\//);
    await s.close();
    s = await start(data);
  });

  it('gives a pip.conf, --index-url and .pypirc that pip and twine use verbatim', async () => {
    const dir = join(work, 'pip');
    await mkdir(join(dir, 'home'), { recursive: true });
    const token = (await api(s, 'POST', '/tokens', { name: 'pages', repos: ['secret'], permission: 'read' })).token as string;
    // pip.conf as the page gives it (a private repository's with the token put in), and nothing else.
    const pipConf = fileSnippet((await page(s, '/all/', ADMIN)).body, '~/.config/pip/pip.conf');
    const secretConf = fileSnippet((await page(s, '/secret/', ADMIN)).body, '~/.config/pip/pip.conf').replace('YOUR_TOKEN', token);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: join(dir, 'home'), XDG_CONFIG_HOME: join(dir, 'home'), XDG_CONFIG_DIRS: join(dir, 'none'), PIP_NO_INPUT: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1' };
    for (const [name, conf, pkg] of [['group', pipConf, 'demo-pkg'], ['secret', secretConf, 'hidden-pkg']]) {
      await writeFile(join(dir, `${name}.conf`), conf);
      const r = await run(pythonExecutable(), ['-m', 'pip', 'install', '--no-cache-dir', '--target', join(dir, name), pkg], { env: { ...env, PIP_CONFIG_FILE: join(dir, `${name}.conf`) } });
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, new RegExp(`Successfully installed ${pkg}`));
    }
    // The one-line command, isolated (CLIENTS.md): only the index it names.
    const command = stepCode((await page(s, '/pypi/')).body, 'Install a package').replace(/^pip /, '').replace(/ PACKAGE$/, ' demo-pkg').split(' ');
    const r = await run(pythonExecutable(), ['-m', 'pip', '--isolated', '--no-cache-dir', ...command, '--target', join(dir, 'cmd')], { env: { ...env, PIP_CONFIG_FILE: '/dev/null' } });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    // twine with the page's .pypirc and its command, for the default repository (named pypi) and a group.
    for (const repo of ['pypi', 'all']) {
      const body = (await page(s, `/${repo}/`)).body;
      // The token the page says to make.
      const made = /wharf token create --name (\S+) --repo (\S+) --permission (\S+)$/.exec(stepCode(body, 'Replace YOUR_TOKEN'))!;
      const writeToken = (await api(s, 'POST', '/tokens', { name: made[1], repos: [made[2]], permission: made[3] })).token as string;
      await writeFile(join(dir, 'pypirc'), fileSnippet(body, '~/.pypirc').replace('YOUR_TOKEN', writeToken));
      const name = `page-${repo}-pkg`;
      const wheel = join(dir, 'dist', wheelFilename({ name, version: '1.0' }));
      await mkdir(join(dir, 'dist'), { recursive: true });
      await writeFile(wheel, buildWheel({ name, version: '1.0' }));
      const upload = stepCode(body, 'Upload what you built').split(' ');
      assert.deepEqual(upload.slice(0, 4), ['twine', 'upload', '--repository', repo]);
      const t = await run('twine', [...upload.slice(1, 4), '--config-file', join(dir, 'pypirc'), '--non-interactive', '--disable-progress-bar', wheel], { env: { ...env, TWINE_NON_INTERACTIVE: '1' } });
      assert.equal(t.code, 0, `${t.stdout}\n${t.stderr}`);
      assert.ok(await s.wharf.store.getPackage(s.wharf.requireRepo('pypi').id, name), `${name} stored
 in pypi (the group's uploadTo)`);
      await rm(join(dir, 'dist'), { recursive: true });
    }
  });

  it('gives a key command and a deb822 .sources that apt-get uses verbatim', async () => {
    const dir = join(work, 'apt-page');
    const keyrings = join(dir, 'keyrings');
    await mkdir(keyrings, { recursive: true });
    const body = (await page(s, '/debs/')).body;
    // The system paths of the snippets point into the test's directory; nothing else changes.
    const local = (text: string) => text.replaceAll('/etc/apt/keyrings/', `${keyrings}/`);
    const keyCommand = local(stepCode(body, 'Download the repository')).split('\n').map((l) => l.replace(/^sudo /, '')).filter((l) => !l.startsWith('install '));
    const k = await run('sh', ['-c', keyCommand.join('\n')]);
    assert.equal(k.code, 0, k.stderr);
    const apt = await aptEnv(dir, { url: 'unused', suite: 'unused', component: 'unused', keyFile: 'unused' });
    await writeFile(join(apt.dir, 'etc/apt/sources.list.d/wharf.sources'), local(fileSnippet(body, '/etc/apt/sources.list.d/debs.sources')));
    const update = await apt.apt('apt-get', 'update');
    assert.equal(update.code, 0, `${update.stdout}\n${update.stderr}`);
    assert.deepEqual(problems(update), []);
    const install = await apt.apt('apt-get', 'install', '-y', '--download-only', 'hello');
    assert.equal(install.code, 0, `${install.stdout}\n${install.stderr}`);
    // The package page's command for exactly this version, as it is (without sudo; only downloading here).
    const archive = join(apt.dir, 'cache/archives/hello_1.0_amd64.deb');
    await rm(archive);
    const pinned = stepCode((await page(s, '/-/package/debs/hello')).body, 'Install exactly this version').replace(/^sudo /, '').split(' ');
    assert.deepEqual(pinned, ['apt-get', 'install', 'hello=1.0']);
    const exact = await apt.apt(...pinned, '-y', '--download-only');
    assert.equal(exact.code, 0, `${exact.stdout}\n${exact.stderr}`);
    assert.ok((await readFile(archive)).length > 0);
    assert.notEqual((await apt.apt('apt-get', 'install', '-y', '--download-only', 'hello=9.9')).code, 0, 'a version that is not there is refused: the pin is real');
  });

  it('gives pacman-key steps and a pacman.conf section that pacman uses verbatim', async () => {
    const dir = join(work, 'pacman-page');
    await mkdir(dir, { recursive: true });
    const gpgdir = await keyring(dir);
    const body = (await page(s, '/pkgs/')).body;
    // The page's commands with this test's keyring and key file in place of the system's.
    const keyCommands = stepCode(body, 'Trust the repository').split('\n')
      .map((l) => l.replace(/^sudo /, '').replace(/^pacman-key /, `pacman-key --gpgdir ${gpgdir} `).replaceAll('/tmp/pkgs.asc', join(dir, 'pkgs.asc')));
    assert.equal(keyCommands.filter((l) => l.includes('--lsign-key')).length, 1);
    const k = await run('sh', ['-c', keyCommands.join(' && ')]);
    assert.equal(k.code, 0, `${k.stdout}\n${k.stderr}`);
    const p = await pacman(dir, gpgdir, 'unused', 'unused');
    await writeFile(join(dir, 'pacman.conf'), `[options]\nArchitecture = x86_64\n\n${fileSnippet(body, '/etc/pacman.conf')}`);
    await p.ok('-Sy', 'tool');
    assert.ok((await readFile(join(dir, 'root/usr/bin/tool'), 'utf8')).includes('tool 1.0-1'));
    // The package page's commands, without sudo: -S from the section, -U from the file's URL.
    const pkgPage = (await page(s, '/-/package/pkgs/tool')).body;
    const fromDb = stepCode(pkgPage, 'pacman installs the version').replace(/^sudo pacman /, '').split(' ');
    assert.deepEqual(fromDb, ['-S', 'pkgs/tool']);
    await p.ok(...fromDb);
    await p.ok('-R', 'tool');
    const fromFile = stepCode(pkgPage, 'Exactly this version').replace(/^sudo pacman /, '').split(' ');
    assert.equal(fromFile[0], '-U');
    await p.ok(...fromFile);
    assert.ok((await readFile(join(dir, 'root/usr/bin/tool'), 'utf8')).includes('tool 1.0-1'));
  });

  it('shows a repository on a port of its own at that port\'s root', async () => {
    await api(s, 'PATCH', '/repositories/pypi', { options: { listen: '127.0.0.1:0' } });
    let port: number | undefined;
    for (let i = 0; i < 50 && !port; i++) {
      port = s.listeners.address('pypi')?.port;
      if (!port) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(port, 'a listener is up');
    const own = await page({ url: `http://127.0.0.1:${port}` }, '/');
    assert.equal(fileSnippet(own.body, '~/.config/pip/pip.conf'), `[global]\nindex-url = http://127.0.0.1:${port}/simple/\n`);
    await api(s, 'PATCH', '/repositories/pypi', { options: { listen: null } });
  });
});
