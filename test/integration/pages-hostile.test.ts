// The pages for people, attacked as a hostile user would: values any uploader or visitor
// controls (metadata of every format, file names, token names, queries, `?next=`,
// `?version=`, `?page=`) opened in a real Chromium must run no script; a sign-in never
// sends the browser to another site; the response cache never hands a page made for one
// port to another; a session cookie never reaches the JSON API; a hostile description
// cannot hold the server for seconds; error answers are never markup a browser would run.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { buildDeb } from '../helpers/apt.ts';
import { twineUpload } from '../helpers/clients.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';
import { buildPackage, makePkginfo } from '../unit/arch/fixtures.ts';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** A GET over node:http, which sends the Host it is given (fetch does not). */
function get(url: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = request(url, { method, headers: { accept: BROWSER, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const HOSTILE_MARKDOWN = [
  '# T', '<script>window.__pwned = 1</script>', '', '<img src=x onerror="window.__pwned = 2">', '',
  '[a](javascript:window.__pwned=3) [b](JaVaScRiPt:window.__pwned=4) [c](java\tscript:x) [d](javascript&#58;x) [e]( javascript:x)',
  '[f](https://ok.example "t\\" onmouseover=\\"window.__pwned=5") [g](//evil.example/x)', '',
  '<JaVaScRiPt:window.__pwned=6> <javascript&#x3a;x>', '', '![p](data:image/svg+xml,<svg onload=alert(7)>) ![q](https://tracker.example/p.png)', '',
  '[ref][r] [ref2][R2]', '', '[r]: javascript:window.__pwned=8', '[R2]: <data:text/html,<script>alert(9)</script>> "x\\"onclick=\\"alert(9)"', '',
  '&lt;script&gt;alert(10)&lt;/script&gt; &#60;img src=x onerror=alert(11)&#62;', '',
  '| a | <b onclick=alert(12)> |', '|---|---|', '| <svg onload=alert(13)> | x |', '',
].join('\n');

describe('pages against a hostile user', () => {
  let s: TestServer;
  let browser: Browser;
  let dir: string;
  let listenPort = 0;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${s.url}/-/api/v1${path}`, { method, headers: { authorization: s.adminAuth, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const upload = async (repo: string, filename: string, bytes: Buffer) => {
    const res = await fetch(`${s.url}/-/api/v1/repositories/${repo}/upload?filename=${encodeURIComponent(filename)}`, { method: 'POST', headers: { authorization: s.adminAuth, 'content-type': 'application/octet-stream' }, body: bytes });
    assert.ok(res.status < 300, `${filename}: ${res.status} ${await res.text()}`);
  };
  const sessionCookie = async (user = 'admin') => `wharf_session=${(await s.wharf.sessions.create((await s.wharf.store.getUserByName(user))!)).secret}`;

  before(async () => {
    s = await startServer();
    dir = await mkdtemp(join(tmpdir(), 'wharf-hostile-pages-'));
    await api('POST', '/repositories', { name: 'debs', format: 'apt' });
    await api('POST', '/repositories', { name: 'arch', format: 'arch' });
    await api('POST', '/repositories', { name: 'tarballs', format: 'files' });
    await api('POST', '/repositories', { name: 'secret', format: 'pypi', public: false });

    // PyPI: every core-metadata field a page shows, hostile, uploaded by twine (its form fields).
    const meta = [
      'Metadata-Version: 2.1', 'Name: hostile-meta', 'Version: 1.0',
      'Summary: <script>window.__pwned=20</script>\u0007 "quoted" \'single\'',
      'Home-page: javascript:window.__pwned=21',
      'Author: <img src=x onerror="window.__pwned=22">',
      'Author-email: "><svg onload=window.__pwned=23>@example.org',
      'Maintainer: </dd><script>window.__pwned=24</script>',
      'License: <style>*{display:none}</style>',
      'Keywords: <b onmouseover=window.__pwned=25>,x',
      'Classifier: Framework :: <script>window.__pwned=26</script>',
      'Requires-Dist: requests; extra == "x<script>"',
      'Requires-Python: >=3.8,<4',
      'Project-URL: Docs, javascript:window.__pwned=27',
      'Project-URL: <script>window.__pwned=28</script>, https://example.org/"onmouseover="window.__pwned=29',
      'Project-URL: Spaced,  \tJaVa\tScRiPt:window.__pwned=30',
      'Project-URL: Data, data:text/html,<script>alert(31)</script>',
      'Description-Content-Type: text/markdown; charset="<script>"; variant=GFM',
    ].join('\n') + '\n\n' + HOSTILE_MARKDOWN;
    const o = { name: 'hostile-meta', version: '1.0', metadataOverride: meta };
    const wheel = join(dir, wheelFilename(o));
    await writeFile(wheel, buildWheel(o));
    const tw = await twineUpload(`${s.url}/pypi/`, 'admin', ADMIN_PASSWORD, [wheel]);
    assert.equal(tw.code, 0, tw.stdout + tw.stderr);
    // Private content: its name must never show to anonymous viewers.
    const p = { name: 'secret-sauce', version: '1.0', summary: 'private summary marker' };
    await upload('secret', wheelFilename(p), buildWheel(p));

    // APT: control fields a page shows (dpkg-deb's own checks skipped; Wharf checks what it must).
    const deb = await buildDeb(dir, 'hostile-deb', [
      'Package: hostile-deb', 'Version: 1:1.0~rc1+b2-1', 'Architecture: amd64',
      'Maintainer: <script>window.__pwned=40</script> <a@example.org>',
      'Homepage: javascript:window.__pwned=41',
      'Section: <img src=x onerror=window.__pwned=42>',
      'Depends: libc6 (>= 2.0), x-<svg-onload>',
      'Description: <script>window.__pwned=43</script>',
      ' <img src=x onerror=window.__pwned=44>', ' .', ' [x](javascript:window.__pwned=45)', '',
    ].join('\n'), { nocheck: true });
    await upload('debs', 'hostile-deb_1.0~rc1+b2-1_amd64.deb', await readFile(deb));

    // Arch: .PKGINFO text fields, and a pkgver with every character pacman allows that HTML minds.
    const pkg = await buildPackage(join(dir, 'hostile-arch.pkg.tar.zst'), {
      pkginfo: makePkginfo({
        pkgname: 'hostile-arch', pkgbase: 'hostile-arch', pkgver: '1.0<b>"\'&-1', arch: 'any', size: '1',
        pkgdesc: '<script>window.__pwned=50</script>', url: 'javascript:window.__pwned=51',
        packager: '<img src=x onerror=window.__pwned=52>', license: '<b onclick=window.__pwned=53>',
        depend: ['<svg>'], builddate: '1700000000',
      }),
      files: { 'usr/bin/hostile-arch': 'x\n' },
      compression: 'zstd',
    });
    await upload('arch', 'hostile-arch-1.0<b>"\'&-1-any.pkg.tar.zst', await readFile(pkg));

    // Files: a name that is markup.
    const res = await fetch(`${s.url}/tarballs/${encodeURIComponent('<img src=x onerror=window.__pwned=60>.txt')}`, { method: 'PUT', body: 'x', headers: { authorization: s.adminAuth } });
    assert.equal(res.status, 201);
    // A token whose name is markup, shown on its owner's token page.
    await s.wharf.store.createToken({ id: 'hostile1', userId: (await s.wharf.store.getUserByName('admin'))!.id,
 name: '<script>window.__pwned=70</script>', secretHash: 'x'.repeat(64), repos: ['<b>'], permission: 'read', expiresAt: null });
    await s.wharf.publisher.flush();

    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    await s?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Text each page must show (anonymous, signed in): the hostile value arrived and is inert. */
  const SHOWN: Record<string, [string | null, string | null]> = {
    '/-/package/pypi/hostile-meta': ['window.__pwned=26', 'window.__pwned=26'],
    '/-/package/debs/hostile-deb': ['window.__pwned=44', 'window.__pwned=44'],
    '/-/package/arch/hostile-arch': ['<img src=x onerror=window.__pwned=52>', '1.0<b>"\'&-1'],
    '/tarballs/': ['<img src=x onerror=window.__pwned=60>.txt', null],
    '/-/tokens': [null, '<script>window.__pwned=70</script>'],
  };

  it('runs no script from any value a client controls, in Chromium', async () => {
    const context = await browser.newContext();
    const [name, value] = (await sessionCookie()).split('=');
    const pages = [
      '/-/package/pypi/hostile-meta',
      '/-/package/pypi/hostile-meta?version=%22%3E%3Csvg%20onload%3Dwindow.__pwned%3D80%3E',
      '/-/package/debs/hostile-deb',
      '/-/package/arch/hostile-arch',
      '/-/package/arch/%3Csvg%20onload%3Dwindow.__pwned%3D81%3E',
      '/tarballs/',
      '/tarballs/?setup',
      '/pypi/?page=%3Cscript%3Ewindow.__pwned%3D82%3C%2Fscript%3E&sort=%22%3E%3Csvg%20onload%3Dwindow.__pwned%3D83%3E',
      '/-/search?q=%3Cscript%3Ewindow.__pwned%3D84%3C%2Fscript%3E%22%27&format=%22%3E%3Csvg%3E&repo=%3Cb%3E&page=%3Cx%3E',
      '/-/search?q=hostile',
      '/-/login?next=javascript:window.__pwned=85',
      '/-/login?next=%22%3E%3Csvg%20onload%3Dwindow.__pwned%3D86%3E',
      '/-/tokens',
    ];
    for (const signedIn of [false, true]) {
      if (signedIn) await context.addCookies([{ name, value, url: s.url }]);
      for (const path of pages) {
        const page = await context.newPage();
        const dialogs: string[] = [];
        page.on('dialog', (d) => {
          dialogs.push(d.message());
          void d.dismiss();
        });
        const res = await page.goto(`${s.url}${path}`);
        assert.ok(res && res.status() < 500, path);
        // The hostile values did reach these pages, as text.
        const shown = SHOWN[path]?.[signedIn ? 1 : 0];
        if (shown) assert.ok((await page.locator('body').innerText()).includes(shown), `${path} shows ${shown}`);
        // In the page (a string: this project's types have no DOM): handlers, URLs, elements that load or run.
        const found = await page.evaluate(`(() => {
          const handlers = [];
          for (const el of document.querySelectorAll('*')) for (const a of el.attributes) if (/^on/i.test(a.name)) handlers.push(el.tagName + ' ' + a.name);
          const urls = Array.from(document.querySelectorAll('[href], [src], [action]')).map((e) => e.href || e.src || e.action || '');
          return {
            pwned: window.__pwned ?? null,
            scripts: Array.from(document.scripts).map((x) => x.src),
            active: document.querySelectorAll('body img, body svg, body iframe, body object, body embed, body style, base, meta[http-equiv]').length,
            handlers,
            badUrls: urls.filter((h) => !/^(https?:|mailto:|$)/i.test(h)),
          };
        })()`) as { pwned: number | null; scripts: string[]; active: number; handlers: string[]; badUrls: string[] };
        const where = `${signedIn ? 'signed in' : 'anonymous'} ${path}`;
        assert.deepEqual(dialogs, [], where);
        assert.equal(found.pwned, null, where);
        assert.deepEqual(found.handlers, [], where);
        assert.deepEqual(found.badUrls, [], where);
        assert.equal(found.active, 0, where);
        // The directory listing of a files repository has no script at all; pages have only wharf.js.
        assert.ok(found.scripts.every((src) => new URL(src).pathname.startsWith('/-/static/wharf-')), `${where}: ${found.scripts.join(' ')}`);
        await page.close();
      }
    }
    // The hostile text is there, as text, for the reader to see.
    const p = await context.newPage();
    await p.goto(`${s.url}/-/package/pypi/hostile-meta`);
    assert.match(await p.locator('main').innerText(), /<script>window.__pwned=20<\/script>/);
    await context.close();
  });

  it('sends a browser back only to this site after signing in, however the path is dressed', async () => {
    for (const next of ['/.//evil.example/x', '/..//evil.example', '/a/..//evil.example', '/%2e//evil.example', '/./\\evil.example']) {
      const form = await get(`${s.url}/-/login?next=${encodeURIComponent(next)}`);
      const field = /name="next" value="([^"]*)"/.exec(form.body)?.[1];
      assert.ok(field !== undefined && !field.startsWith('//'), `${next} → next field ${field}`);
      const csrf = /name="csrf" value="([^"]*)"/.exec(form.body)![1];
      const res = await fetch(`${s.url}/-/login`, {
        method: 'POST', redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `wharf_login_csrf=${csrf}` },
        body: new URLSearchParams({ csrf, next, username: 'admin', password: ADMIN_PASSWORD }).toString(),
      });
      assert.equal(res.status, 303);
      const location = res.headers.get('location')!;
      assert.equal(new URL(location, s.url).origin, s.url, `${next} → ${location}`);
    }
  });

  it('never lets a session cookie authenticate the JSON API, reads included', async () => {
    const cookie = await sessionCookie();
    // The cookie works for pages and downloads of private repositories...
    const page = await get(`${s.url}/secret/`, { cookie });
    assert.equal(page.status, 200);
    assert.match(page.body, /secret-sauce/);
    // ...and nowhere in the API: a page of another site cannot use it there.
    assert.equal(await (await fetch(`${s.url}/-/api/v1/whoami`, { headers: { cookie } })).text(), '{"user":null}');
    for (const path of ['/-/api/v1/users', '/-/api/v1/tokens', '/-/api/v1/repositories/secret', '/-/api/v1/repositories/secret/packages']) {
      const res = await fetch(`${s.url}${path}`, { headers: { cookie } });
      const body = await res.text();
      assert.ok(res.status === 401 || res.status === 404, `${path}: ${res.status} ${body.slice(0, 200)}`);
      assert.ok(!body.includes('secret-sauce') && !body.includes('"admin"'), `${path}: ${body.slice(0, 200)}`);
    }
    const listed = await (await fetch(`${s.url}/-/api/v1/repositories`, { headers: { cookie } })).text();
    assert.ok(!listed.includes('"secret"'), listed.slice(0, 300));
  });

  it('never serves a page cached for one port on a repository\'s own port (or the reverse)', async () => {
    await api('PATCH', '/repositories/pypi', { options: { listen: '127.0.0.1:0' } });
    for (let i = 0; i < 50 && !listenPort; i++) {
      listenPort = s.listeners.address('pypi')?.port ?? 0;
      if (!listenPort) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(listenPort, 'a listener is up');
    const own = `127.0.0.1:${listenPort}`;
    try {
      // The main port asked with the other port's Host: a page for /pypi/ naming /pypi/.
      const main = await get(`${s.url}/pypi/`, { host: own });
      assert.match(main.body, new RegExp(`index-url = http://${own}/pypi/simple/`));
      // The repository's own port: its root is the repository.
      const root = await get(`http://${own}/`);
      assert.match(root.body, new RegExp(`index-url = http://${own}/simple/`), 'the own port\'s page, not the main port\'s');
      // And the other way round.
      const root2 = await get(`http://${own}/-/package/pypi/hostile-meta`);
      const main2 = await get(`${s.url}/-/package/pypi/hostile-meta`, { host: own });
      assert.match(root2.body, new RegExp(`--index-url http://${own}/simple/`));
      assert.match(main2.body, new RegExp(`--index-url http://${own}/pypi/simple/`));
    } finally {
      await api('PATCH', '/repositories/pypi', { options: { listen: null } });
    }
  });

  it('renders a hostile description in well under a second, and a second view costs nothing', async () => {
    // The inputs markdown-it is slowest on (several ms per KiB), at the description cap and beyond.
    const cases: [string, string][] = [['images', '!['.repeat(300_000)], ['brackets', '['.repeat(600_000)], ['table', '|a|b|\n|-|-|\n' + '|x|y|\n'.repeat(100_000)]];
    for (const [name, description] of cases) {
      const o = { name: `slow-${name}`, version: '1.0', description };
      await upload('pypi', wheelFilename(o), buildWheel(o));
      const started = performance.now();
      const res = await get(`${s.url}/-/package/pypi/slow-${name}`, { cookie: await sessionCookie() });
      const first = performance.now() - started;
      assert.equal(res.status, 200);
      assert.ok(first < 1000, `${name}: the page took ${first.toFixed(0)} ms`);
      const again = performance.now();
      await get(`${s.url}/-/package/pypi/slow-${name}?again`, { cookie: await sessionCookie() });
      const second = performance.now() - again;
      assert.ok(second < 250, `${name}: the second view took ${second.toFixed(0)} ms`);
    }
  });

  it('answers errors with nosniff and a policy that runs nothing, the bytes package clients expect unchanged', async () => {
    const cases: [string, Record<string, string>, string, RegExp][] = [
      ['/%3Cscript%3Ealert(1)%3C%2Fscript%3E/', { accept: '*/*' }, 'text/plain; charset=utf-8', /^404 no repository named <script>alert\(1\)<\/script>\n$/],
      ['/pypi/simple/%3Cscript%3E/', { accept: 'text/html' }, 'text/plain; charset=utf-8', /^404 /],
      ['/-/nope%3Cscript%3E', { accept: BROWSER }, 'application/json; charset=utf-8', /^\{"error":/],
      ['/secret/simple/', { accept: BROWSER }, 'text/plain; charset=utf-8', /^401 /],
      ['/-/static/%3Cscript%3E.js', { accept: BROWSER }, 'application/json; charset=utf-8', /^\{"error":/],
    ];
    for (const [path, headers, type, body] of cases) {
      for (const method of ['GET', 'HEAD']) {
        const res = await get(`${s.url}${path}`, headers, method);
        assert.ok(res.status >= 400, `${method} ${path}: ${res.status}`);
        assert.equal(res.headers['content-type'], type, `${method} ${path}`);
        assert.equal(res.headers['x-content-type-options'], 'nosniff', `${method} ${path}`);
        assert.match(String(res.headers['content-security-policy']), /default-src 'none'/, `${method} ${path}`);
        if (method === 'GET') assert.match(res.body, body, path);
        else assert.equal(res.body, '', path);
      }
    }
  });
});
