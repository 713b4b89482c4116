// Pages a person opens, in a real headless Chromium: directory listings of a files
// repository (navigated by clicking), the simple index of a PyPI repository, the home and
// repository pages with their set-up, search as you type, a package page whose copied pip
// command installs that exact version, and hostile descriptions that stay inert.
// Screenshots go to a temporary directory (WHARF_SCREENSHOTS names another), never committed.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { pip, twineUpload } from '../helpers/clients.ts';
import { buildWheel, coreMetadataText, wheelFilename } from '../helpers/python-dists.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

/** A description that tries everything a page must not do. */
const HOSTILE_MARKDOWN = [
  '# Hostile', '', '<script>window.__pwned = 1; alert(1)</script>', '', '<img src=x onerror="window.__pwned = 2; alert(2)">', '',
  '[click](javascript:alert(3)) [case](JaVaScRiPt:alert(4)) [entity](javascript&#58;alert(5)) [data](data:text/html,<script>alert(6)</script>) [vb](vbscript:msgbox(7))',
  '', '<javascript:alert(8)>', '', '![pixel](https://tracker.example/p.png) ![x](javascript:alert(9))', '',
  '<div onmouseover="alert(10)" style="position:fixed;inset:0">cover</div>', '', '<iframe src="javascript:alert(11)"></iframe>', '',
  '[ref][r]', '', '[r]: javascript:alert(12)', '',
].join('\n');
const HOSTILE_RST = 'Hostile\n=======\n\n.. raw:: html\n\n   <script>alert(13)</script>\n\n`x <javascript:alert(14)>`_\n<img src=x onerror=alert(15)>\n';

describe('pages in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let shots: string;

  before(async () => {
    server = await startServer();
    shots = process.env.WHARF_SCREENSHOTS ?? await mkdtemp(join(tmpdir(), 'wharf-shots-'));
    await mkdir(shots, { recursive: true });
    const h = { authorization: server.adminAuth };
    await fetch(`${server.url}/-/api/v1/repositories`, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'tarballs', format: 'files' }) });
    for (const path of ['releases/v1/tool-1.0.tar.gz', 'releases/v1/tool-1.0.tar.gz.sha256', 'releases/v2/tool-2.0.tar.gz', 'README.txt']) {
      const res = await fetch(`${server.url}/tarballs/${path}`, { method: 'PUT', body: `content of ${path}\n`, headers: h });
      assert.equal(res.status, 201);
    }
    for (const version of ['1.0', '2.0']) {
      const wheel = buildWheel({ name: 'Demo_Pkg', version, requiresPython: '>=3.8', summary: 'A package to demonstrate pages', description: `# Demo ${version}\n\nA **demo**.` });
      const res = await fetch(`${server.url}/-/api/v1/repositories/pypi/upload?filename=${wheelFilename({ name: 'Demo_Pkg', version })}`, { method: 'POST', body: wheel, headers: { ...h, 'content-type': 'application/octet-stream' } });
      assert.equal(res.status, 201);
    }
    await server.wharf.publisher.flush();
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    await server.close();
    console.log(`screenshots: ${shots} (${(await readdir(shots).catch(() => [])).join(', ')})`);
  });

  it('navigates a files repository by clicking through its listings', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/tarballs/`);
    assert.match(await page.title(), /tarballs/);
    await page.click('a[href="releases/"]');
    await page.waitForURL(`${server.url}/tarballs/releases/`);
    await page.click('a[href="v1/"]');
    await page.waitForURL(`${server.url}/tarballs/releases/v1/`);
    const names = await page.$$eval('a', (as) => as.map((a) => a.textContent?.trim()));
    assert.ok(names.includes('tool-1.0.tar.gz'), names.join(', '));
    assert.ok(names.includes('tool-1.0.tar.gz.sha256'));
    await page.screenshot({ path: join(shots, 'listing.png') });
    await page.click('a[href="../"]');
    await page.waitForURL(`${server.url}/tarballs/releases/`);
    // A file is a download (application/octet-stream), fetched the way the page links it.
    const href = await page.locator('a', { hasText: 'v2/' }).getAttribute('href');
    assert.equal(href, 'v2/');
    const response = await page.request.get(new URL('v1/tool-1.0.tar.gz.sha256', page.url()).toString());
    assert.equal(response.status(), 200);
    assert.match(await response.text(), /content of releases\/v1\/tool-1\.0\.tar\.gz\.sha256/);
    await page.close();
  });

  it('shows the simple index and a project page with working links', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/pypi/simple/`);
    assert.equal(await page.title(), 'Simple index');
    await page.click('text=Demo_Pkg');
    await page.waitForURL(`${server.url}/pypi/simple/demo-pkg/`);
    const link = page.locator('a', { hasText: 'demo_pkg-1.0-py3-none-any.whl' });
    assert.equal(await link.getAttribute('data-requires-python'), '>=3.8');
    const href = await link.getAttribute('href');
    assert.match(href ?? '', /^\.\.\/\.\.\/packages\/demo-pkg\/demo_pkg-1\.0-py3-none-any\.whl#sha256=[0-9a-f]{64}$/);
    const res = await page.request.get(new URL(href!, page.url()).toString());
    assert.equal(res.status(), 200);
    assert.equal((await res.body()).length > 0, true);
    await page.close();
  });

  it('opens the home page, follows a repository link and finds its pip set-up, in light and dark', async () => {
    const page = await browser.newPage();
    const res = await page.goto(`${server.url}/`);
    assert.equal(res?.status(), 200);
    assert.equal(await page.title(), 'Wharf repositories');
    // Landmarks a screen reader offers.
    for (const landmark of ['header', 'main', 'footer', 'nav']) assert.equal(await page.locator(landmark).count() >= 1, true, landmark);
    assert.match(await page.locator('footer').innerText(), /^Wharf \d+\.\d+\.\d+$/);
    await page.screenshot({ path: join(shots, 'home.png') });
    await page.click('a[href="/pypi/"]');
    await page.waitForURL(`${server.url}/pypi/`);
    assert.equal(await page.locator('h1').innerText(), 'pypi');
    const conf = page.locator('section[aria-labelledby="setup-pip"] pre').nth(1);
    assert.equal(await conf.innerText(), `[global]\nindex-url = ${server.url}/pypi/simple/\n`);
    assert.match(await page.locator('section[aria-labelledby="setup-pip"]').innerText(), new RegExp(`pip install --index-url ${server.url}/pypi/simple/ PACKAGE`));
    // The link in the page's nav goes to the section.
    await page.click('nav[aria-label="Clients"] a[href="#setup-twine"]');
    assert.match(page.url(), /#setup-twine$/);
    const light = await page.evaluate('getComputedStyle(document.body).backgroundColor');
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await page.evaluate('getComputedStyle(document.body).backgroundColor');
    assert.equal(light, 'rgb(255, 255, 255)');
    assert.notEqual(dark, light);
    await page.screenshot({ path: join(shots, 'repository-dark.png'), fullPage: true });
    // The files repository keeps its listing; its set-up is one link away on the home page.
    await page.goto(`${server.url}/`);
    await page.click('a[href="/tarballs/?setup"]');
    assert.match(await page.locator('main').innerText(), /curl -fO /);
    await page.close();
  });

  it('searches as you type, opens the package, copies the pip command of one version and pip installs exactly that version', async () => {
    const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text()); });
    await page.goto(`${server.url}/`);
    await page.screenshot({ path: join(shots, 'home-with-packages.png'), fullPage: true });
    // The header's search box: results appear under it while typing.
    const box = page.getByRole('searchbox', { name: 'Search packages', exact: true });
    await box.pressSequentially('demo', { delay: 30 });
    const suggestion = page.locator('header .suggest a', { hasText: 'Demo_Pkg (pypi)' });
    await suggestion.waitFor();
    assert.equal(await box.getAttribute('aria-expanded'), 'true');
    await page.screenshot({ path: join(shots, 'search-as-you-type.png') });
    await suggestion.click();
    await page.waitForURL(`${server.url}/-/package/pypi/demo-pkg`);
    assert.equal(await page.locator('h1').innerText(), 'Demo_Pkg');
    await page.screenshot({ path: join(shots, 'package.png'), fullPage: true });
    // The copy button of version 1.0's pip command (not the newest: the pin must be what counts).
    const copy = page.locator('#v-1\\.0 .copyable button');
    assert.equal(await copy.getAttribute('aria-label'), 'Copy install command for Demo_Pkg 1.0');
    await copy.click();
    await page.locator('#v-1\\.0 .copyable button', { hasText: 'Copied' }).waitFor();
    const command = await page.evaluate('navigator.clipboard.readText()') as string;
    assert.equal(command, `pip install --index-url ${server.url}/pypi/simple/ demo-pkg==1.0`);
    // Run it with real pip, isolated (CLIENTS.md): only this server's index.
    const target = await mkdtemp(join(tmpdir(), 'wharf-copied-pip-'));
    try {
      const args = command.split(' ');
      assert.deepEqual(args.slice(0, 2), ['pip', 'install']);
      const r = await pip([...args.slice(1), '--target', target]);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const installed = await readdir(target);
      assert.ok(installed.includes('demo_pkg-1.0.dist-info'), installed.join(', '));
      assert.ok(!installed.includes('demo_pkg-2.0.dist-info'));
    } finally {
      await rm(target, { recursive: true, force: true });
    }
    // The search page and the repository page, by keyboard: the skip link comes first.
    await page.goto(`${server.url}/-/search?q=demo`);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.textContent'), 'Skip to content');
    await page.screenshot({ path: join(shots, 'search.png'), fullPage: true });
    await page.goto(`${server.url}/pypi/`);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(shots, 'repository-packages-dark.png'), fullPage: true });
    assert.deepEqual(violations, [], 'the CSP blocks nothing the pages use');
    await context.close();
    // Without JavaScript the search box is a plain form.
    const plain = await browser.newContext({ javaScriptEnabled: false });
    const p2 = await plain.newPage();
    await p2.goto(`${server.url}/`);
    await p2.locator('main input[type=search]').fill('demo pkg');
    await p2.locator('main input[type=search]').press('Enter');
    await p2.waitForURL(/\/-\/search\?q=demo\+pkg/);
    assert.ok(await p2.locator('main a[href="/-/package/pypi/demo-pkg"]').count() === 1);
    await plain.close();
  });

  it('renders hostile descriptions uploaded by twine and over HTTP as inert text', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wharf-hostile-'));
    try {
      const wheelName = wheelFilename({ name: 'hostile-md', version: '1.0' });
      await writeFile(join(dir, wheelName), buildWheel({ name: 'hostile-md', version: '1.0', summary: '<script>alert(0)</script>', description: HOSTILE_MARKDOWN }));
      const t = await twineUpload(`${server.url}/pypi/`, 'admin', ADMIN_PASSWORD, [join(dir, wheelName)]);
      assert.equal(t.code, 0, `${t.stdout}\n${t.stderr}`);
      const rst = coreMetadataText({ name: 'hostile-rst', version: '1.0' }).replace('\n\n', '\nDescription-Content-Type: text/x-rst\n\n') + HOSTILE_RST;
      const res = await fetch(`${server.url}/-/api/v1/repositories/pypi/upload?filename=${wheelFilename({ name: 'hostile-rst', version: '1.0' })}`, {
        method: 'POST', body: buildWheel({ name: 'hostile-rst', version: '1.0', metadataOverride: rst }), headers: { authorization: server.adminAuth, 'content-type': 'application/octet-stream' },
      });
      assert.equal(res.status, 201, await res.text());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await server.wharf.publisher.flush();
    for (const name of ['hostile-md', 'hostile-rst']) {
      const page = await browser.newPage();
      const dialogs: string[] = [];
      page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
      await page.goto(`${server.url}/-/package/pypi/${name}`);
      await page.locator('h2#description').waitFor();
      // Hover and click across the description: nothing in it may run.
      const description = page.locator('.description');
      await description.hover();
      for (const a of await description.locator('a').all()) await a.hover();
      await page.waitForTimeout(300);
      assert.deepEqual(dialogs, [], `${name}: a dialog fired`);
      assert.equal(await page.evaluate('window.__pwned'), undefined);
      const facts = await page.evaluate(`({
        scripts: [...document.querySelectorAll('script')].map((s) => s.getAttribute('src')),
        handlers: [...document.querySelectorAll('*')].flatMap((e) => [...e.attributes].filter((a) => /^on/i.test(a.name)).map((a) => e.tagName + ' ' + a.name)),
        active: document.querySelectorAll('main iframe, main img, main object, main embed, main style, main [style]').length,
        hrefs: [...document.querySelectorAll('main a[href]')].map((a) => a.protocol),
        text: document.querySelector('.description')?.textContent ?? '',
      })`) as { scripts: (string | null)[]; handlers: string[]; active: number; hrefs: string[]; text: string };
      assert.equal(facts.scripts.length, 1, `only the page's own script: ${JSON.stringify(facts.scripts)}`);
      assert.match(facts.scripts[0] ?? '', /^\/-\/static\/wharf-[\w-]{16}\.js$/);
      assert.deepEqual(facts.handlers, []);
      assert.equal(facts.active, 0);
      for (const protocol of facts.hrefs) assert.ok(['http:', 'https:', 'mailto:'].includes(protocol), protocol);
      // The reader still sees what was written, as text.
      assert.match(facts.text, name === 'hostile-md' ? /<script>window\.__pwned = 1; alert\(1\)<\/script>/ : /\.\. raw:: html\n\n {3}<script>alert\(13\)<\/script>/);
      await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
      await page.close();
    }
  });
});
