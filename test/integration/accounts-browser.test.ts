// Accounts in a real headless Chromium: sign in through the form, create a token in the
// page and upload with it through real twine using the page's own `.pypirc` and command,
// revoke it in the page (twine is then refused), sign out; an administrator creates and
// deletes a repository and a user through the pages, and reads the audit trail of it all there.
// Screenshots go to a temporary directory (printed; not committed).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { run } from '../helpers/clients.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

describe('accounts in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let shots: string;
  let work: string;

  before(async () => {
    server = await startServer();
    shots = await mkdtemp(join(tmpdir(), 'wharf-shots-accounts-'));
    work = await mkdtemp(join(tmpdir(), 'wharf-accounts-browser-'));
    const h = { authorization: server.adminAuth, 'content-type': 'application/json' };
    const api = (path: string, method: string, body: unknown) => fetch(`${server.url}/-/api/v1${path}`, { method, headers: h, body: JSON.stringify(body) });
    assert.equal((await api('/repositories', 'POST', { name: 'team', format: 'pypi', public: false })).status, 201);
    assert.equal((await api('/users', 'POST', { name: 'alice', password: 'alice-password' })).status, 201);
    assert.equal((await api('/users/alice/grants', 'PUT', { repo: 'team', permission: 'write' })).status, 200);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    console.log(`screenshots: ${shots}`);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await rm(work, { recursive: true, force: true });
  });

  async function signIn(page: Page, user: string, password: string) {
    await page.goto(`${server.url}/`);
    await page.click('header a[href="/-/login"]');
    await page.waitForURL(`${server.url}/-/login`);
    await page.fill('#username', user);
    await page.fill('#password', password);
    await page.screenshot({ path: join(shots, `login-${user}.png`) });
    await Promise.all([page.waitForURL(`${server.url}/`), page.click('main button[type="submit"]')]);
    assert.equal(await page.locator('header .viewer strong').innerText(), user);
  }

  /** twine, run as the page says: its `.pypirc` in HOME and its command in the shell. */
  async function twineAsThePageSays(pypirc: string, command: string, version: string) {
    const home = join(work, `home-${version}`);
    await mkdir(join(home, 'dist'), { recursive: true });
    await writeFile(join(home, '.pypirc'), pypirc);
    await writeFile(join(home, 'dist', wheelFilename({ name: 'browser-made', version })), buildWheel({ name: 'browser-made', version }));
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, TWINE_NON_INTERACTIVE: '1' };
    for (const k of ['TWINE_USERNAME', 'TWINE_PASSWORD', 'TWINE_REPOSITORY_URL', 'TWINE_REPOSITORY']) delete env[k];
    return run('sh', ['-c', command], { cwd: home, env });
  }

  it('signs in, makes a token that twine uploads with, revokes it, signs out', async () => {
    const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await context.newPage();
    await signIn(page, 'alice', 'alice-password');
    const [session] = (await context.cookies()).filter((c) => c.name === 'wharf_session');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Lax');
    // The signed-in browser reads the private repository's page.
    await page.goto(`${server.url}/team/`);
    assert.equal(await page.locator('h1').innerText(), 'team');

    await page.click('header a[href="/-/tokens"]');
    await page.waitForURL(`${server.url}/-/tokens`);
    await page.fill('#token-name', 'twine in ci');
    await page.fill('#token-repos', 'team');
    await page.selectOption('#token-permission', 'write');
    await Promise.all([page.waitForURL(`${server.url}/-/tokens`), page.click('form[action="/-/tokens"] button[type="submit"]')]);
    const token = await page.locator('#new-token').innerText();
    assert.match(token, /^wharf_[0-9a-f]{12}_[A-Za-z0-9_-]+$/);
    assert.equal(await page.locator('button[data-copy]').first().getAttribute('data-copy'), token);
    // The page's copy button (wharf.js) puts exactly the token on the clipboard.
    await page.locator('button[data-copy]', { hasText: 'Copy token' }).click();
    await page.locator('button[data-copy]', { hasText: 'Copied' }).waitFor();
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), token);
    await page.screenshot({ path: join(shots, 'token-created.png'), fullPage: true });
    // The page's own twine set-up, read as a person would copy it.
    const pypirc = await page.locator('h4:text-is("twine") ~ pre code').first().innerText();
    const command = await page.locator('h4:text-is("twine") ~ pre code').nth(1).innerText();
    assert.match(pypirc, new RegExp(`password = ${token}`));
    assert.equal(command, 'twine upload --repository team dist/*');
    const up = await twineAsThePageSays(pypirc, command, '1.0');
    assert.equal(up.code, 0, up.stdout + up.stderr);
    const repo = server.wharf.requireRepo('team');
    assert.ok(await server.wharf.store.getPackage(repo.id, 'browser-made'), 'uploaded');

    // The token is listed (last used just now) and revoked from the page.
    await page.goto(`${server.url}/-/tokens`);
    const row = page.locator('tr', { hasText: 'twine in ci' });
    assert.doesNotMatch(await row.innerText(), /never\s+never/, 'last used is shown');
    await Promise.all([page.waitForURL(`${server.url}/-/tokens`), row.locator('button', { hasText: 'Revoke' }).click()]);
    assert.equal(await page.locator('tr', { hasText: 'twine in ci' }).count(), 0);
    const refused = await twineAsThePageSays(pypirc, command, '2.0');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stdout + refused.stderr, /40[13]/);

    await page.screenshot({ path: join(shots, 'tokens-after-revoke.png'), fullPage: true });
    await Promise.all([page.waitForURL(`${server.url}/`), page.click('header form.signout button')]);
    assert.match(await page.locator('header .viewer').innerText(), /Not signed in/);
    assert.equal((await context.cookies()).filter((c) => c.name === 'wharf_session').length, 0);
    // (Fetched with the context's cookies: navigating to a 401 makes headless Chromium fail the navigation.)
    const closed = await context.request.get(`${server.url}/team/`, { headers: { accept: 'text/html' } });
    assert.equal(closed.status(), 401, 'signed out: the private repository is closed again');
    await context.close();
  });

  it('lets an administrator create and delete a repository and a user', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.click('header a[href="/-/admin/repositories"]');
    await page.waitForURL(`${server.url}/-/admin/repositories`);
    await page.fill('#repo-name', 'made-in-browser');
    await page.selectOption('#repo-format', 'files');
    await page.check('input[name="access"][value="private"]');
    await Promise.all([page.waitForURL(`${server.url}/-/admin/repositories`), page.click('form[action="/-/admin/repositories"] button[type="submit"]')]);
    assert.equal(server.wharf.repo('made-in-browser')?.publicRead, false);
    // A duplicate comes back on the form.
    await page.fill('#repo-name', 'made-in-browser');
    await page.click('form[action="/-/admin/repositories"] button[type="submit"]');
    assert.match(await page.locator('[role="alert"]').innerText(), /already exists/);
    await page.screenshot({ path: join(shots, 'admin-repositories.png'), fullPage: true });
    await page.goto(`${server.url}/-/admin/repositories`);
    await page.locator('tr', { hasText: 'made-in-browser' }).locator('button', { hasText: 'Delete' }).click();
    await page.waitForSelector('h1:text("Delete repository made-in-browser?")');
    assert.ok(server.wharf.repo('made-in-browser'), 'not before confirming');
    await Promise.all([page.waitForURL(`${server.url}/-/admin/repositories`), page.click('button.danger')]);
    assert.equal(server.wharf.repo('made-in-browser'), undefined);

    await page.click('nav[aria-label="Administration"] a[href="/-/admin/users"]');
    await page.waitForURL(`${server.url}/-/admin/users`);
    await page.fill('#user-name', 'zed');
    await page.fill('#user-password', 'zed-password');
    await Promise.all([page.waitForURL(`${server.url}/-/admin/users`), page.click('form[action="/-/admin/users"] button[type="submit"]')]);
    assert.ok(await server.wharf.store.getUserByName('zed'));
    await page.locator('tr', { hasText: 'zed' }).locator('button', { hasText: 'Delete' }).click();
    await page.waitForSelector('h1:text("Delete user zed?")');
    await Promise.all([page.waitForURL(`${server.url}/-/admin/users`), page.click('button.danger')]);
    assert.equal(await server.wharf.store.getUserByName('zed'), undefined);

    await page.screenshot({ path: join(shots, 'admin-users.png'), fullPage: true });
    await context.close();
  });

  it('shows an administrator the audit trail of what the pages changed, filtered and paged; nobody else', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto(`${server.url}/-/admin/repositories`);
    await Promise.all([page.waitForURL(`${server.url}/-/admin/audit`), page.click('nav[aria-label="Administration"] a[href="/-/admin/audit"]')]);
    const rows = page.locator('#audit tbody tr');
    const cells = async (i: number) => (await rows.nth(i).locator('td').allInnerTexts()).map((t) => t.trim());
    // Newest first: the user deleted in the pages by admin, from this browser's address.
    const [, who, address, repo, action, what] = await cells(0);
    assert.deepEqual([who, address, repo, action, what], ['admin', '127.0.0.1', '—', 'user-delete', 'zed; admin: false']);
    const all = await page.locator('#audit tbody td:nth-child(5)').allInnerTexts();
    for (const a of ['token-create', 'token-revoke', 'upload', 'repo-create', 'repo-delete', 'user-create', 'grant']) assert.ok(all.includes(a), `${a} in ${all.join(',')}`);
    // The token alice made in the pages, and her upload with it, by her.
    const upload = page.locator('#audit tbody tr', { hasText: 'upload' });
    assert.match(await upload.innerText(), /alice\s+\(token twine in ci\)/);
    await page.screenshot({ path: join(shots, 'admin-audit.png'), fullPage: true });

    // The filters are a plain GET form.
    await page.fill('#audit-action', 'repo-*');
    await Promise.all([page.waitForURL(/\/-\/admin\/audit\?/), page.click('form[action="/-/admin/audit"] button[type="submit"]')]);
    assert.deepEqual(new Set(await page.locator('#audit tbody td:nth-child(5)').allInnerTexts()), new Set(['repo-create', 'repo-delete']));
    await page.fill('#audit-action', '');
    await page.fill('#audit-repo', 'made-in-browser');
    await Promise.all([page.waitForURL(/repo=made-in-browser/), page.click('form[action="/-/admin/audit"] button[type="submit"]')]);
    assert.deepEqual(await page.locator('#audit tbody td:nth-child(5)').allInnerTexts(), ['repo-delete', 'repo-create']);
    // Paged by id: pages of two, followed by their "Older entries" link, list the whole trail once.
    await page.goto(`${server.url}/-/admin/audit?limit=2`);
    const ids: string[] = [];
    for (;;) {
      ids.push(...await page.locator('#audit tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id') ?? '')));
      const next = page.locator('a[rel="next"]');
      if ((await next.count()) === 0) break;
      await Promise.all([page.waitForURL(/before=/), next.click()]);
    }
    assert.equal(ids.length, all.length);
    assert.equal(new Set(ids).size, ids.length);
    await context.close();

    // Alice, signed in, finds no such page.
    const hers = await browser.newContext();
    const alicePage = await hers.newPage();
    await signIn(alicePage, 'alice', 'alice-password');
    const r = await hers.request.get(`${server.url}/-/admin/audit`);
    assert.equal(r.status(), 404);
    await hers.close();
  });
});
