// Pages a person opens, in a real headless Chromium: directory listings of a files
// repository (navigated by clicking), the simple index of a PyPI repository, and the home
// and repository pages with their set-up.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

describe('pages in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let shots: string;

  before(async () => {
    server = await startServer();
    shots = await mkdtemp(join(tmpdir(), 'wharf-shots-'));
    const h = { authorization: server.adminAuth };
    await fetch(`${server.url}/-/api/v1/repositories`, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'tarballs', format: 'files' }) });
    for (const path of ['releases/v1/tool-1.0.tar.gz', 'releases/v1/tool-1.0.tar.gz.sha256', 'releases/v2/tool-2.0.tar.gz', 'README.txt']) {
      const res = await fetch(`${server.url}/tarballs/${path}`, { method: 'PUT', body: `content of ${path}\n`, headers: h });
      assert.equal(res.status, 201);
    }
    const wheel = buildWheel({ name: 'Demo_Pkg', version: '1.0', requiresPython: '>=3.8' });
    await fetch(`${server.url}/-/api/v1/repositories/pypi/upload?filename=${wheelFilename({ name: 'Demo_Pkg', version: '1.0' })}`, { method: 'POST', body: wheel, headers: { ...h, 'content-type': 'application/octet-stream' } });
    await server.wharf.publisher.flush();
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    await server.close();
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
});
