// Sign-in through the pages, browser sessions and the forms that manage tokens, repositories
// and users: the cookie's flags (Secure over HTTPS), where the cookie counts (reads
// everywhere, writes only through the CSRF-checked forms, never the JSON API or uploads),
// when a session ends, the login throttle shared with HTTP Basic, and `next=` redirects.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashSessionSecret } from '../../src/core/auth/sessions.ts';
import { FORM_ROUTES } from '../../src/server/pages/form-routes.ts';
import { httpsGet, makeCa, makeLeaf } from '../helpers/https.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { ADMIN_PASSWORD, basic, startServer, type TestServer } from '../helpers/server.ts';
import { writeFile } from 'node:fs/promises';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

interface Browser {
  /** `wharf_session=…` */
  cookie: string;
  secret: string;
  csrf: string;
}

/** Each caller its own client address (the server trusts 127.0.0.1's X-Forwarded-For), so throttling stays apart. */
let addressSeq = 10;
const newAddress = () => `203.0.113.${addressSeq++}`;

const setCookies = (res: Response) => res.headers.getSetCookie();
const cookieNamed = (res: Response, name: string) => setCookies(res).find((c) => c.startsWith(`${name}=`));
const csrfIn = (body: string) => /name="csrf" value="([^"]+)"/.exec(body)?.[1];

async function get(s: TestServer, path: string, cookie?: string, headers: Record<string, string> = {}) {
  return fetch(`${s.url}${path}`, { redirect: 'manual', headers: { accept: BROWSER, ...(cookie ? { cookie } : {}), ...headers } });
}

async function post(s: TestServer, path: string, fields: Record<string, string>, cookie?: string, headers: Record<string, string> = {}) {
  return fetch(`${s.url}${path}`, {
    method: 'POST', redirect: 'manual', body: new URLSearchParams(fields).toString(),
    headers: { accept: BROWSER, 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}), ...headers },
  });
}

/** The sign-in form's token and its cookie. */
async function loginForm(s: TestServer, address = newAddress()) {
  const res = await get(s, '/-/login', undefined, { 'x-forwarded-for': address });
  assert.equal(res.status, 200);
  const body = await res.text();
  const c = cookieNamed(res, 'wharf_login_csrf')!;
  return { csrf: csrfIn(body)!, cookie: c.split(';')[0], setCookie: c };
}

async function signIn(s: TestServer, user: string, password: string, opts: { address?: string; next?: string } = {}): Promise<Browser> {
  const address = opts.address ?? newAddress();
  const form = await loginForm(s, address);
  const res = await post(s, '/-/login', { csrf: form.csrf, username: user, password, next: opts.next ?? '/' }, form.cookie, { 'x-forwarded-for': address });
  assert.equal(res.status, 303, await res.text());
  const c = cookieNamed(res, 'wharf_session')!;
  const cookie = c.split(';')[0];
  const page = await (await get(s, '/-/tokens', cookie)).text();
  return { cookie, secret: cookie.slice('wharf_session='.length), csrf: csrfIn(page)! };
}

async function apiAs(s: TestServer, method: string, path: string, body: unknown, headers: Record<string, string>) {
  return fetch(`${s.url}/-/api/v1${path}`, { method, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
}

describe('browser sessions and the account pages', () => {
  let s: TestServer;

  before(async () => {
    s = await startServer({ trustedProxies: ['127.0.0.1'] });
    const admin = { authorization: s.adminAuth };
    assert.equal((await apiAs(s, 'POST', '/repositories', { name: 'vault', format: 'files', public: false }, admin)).status, 201);
    assert.equal((await apiAs(s, 'POST', '/repositories', { name: 'team', format: 'pypi', public: false }, admin)).status, 201);
    assert.equal((await fetch(`${s.url}/vault/plans.txt`, { method: 'PUT', body: 'the plans', headers: admin })).status, 201);
    for (const name of ['alice', 'bob', 'carol', 'thr1', 'thr2', 'gone']) {
      assert.equal((await apiAs(s, 'POST', '/users', { name, password: `${name}-password` }, admin)).status, 201);
    }
    assert.equal((await apiAs(s, 'PUT', '/users/alice/grants', { repo: '*', permission: 'write' }, admin)).status, 200);
  });
  after(async () => s?.close());

  it('sets the cookie HttpOnly, SameSite=Lax, Path=/, and Secure only when the request came over HTTPS', async () => {
    const form = await loginForm(s);
    assert.match(form.setCookie, /; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    const res = await post(s, '/-/login', { csrf: form.csrf, username: 'alice', password: 'alice-password' }, form.cookie, { 'x-forwarded-for': newAddress() });
    assert.equal(res.status, 303);
    const c = cookieNamed(res, 'wharf_session')!;
    assert.match(c, /^wharf_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=604800$/);
    assert.doesNotMatch(c, /Secure/);
    // The pre-session cookie is cleared once signed in.
    assert.match(cookieNamed(res, 'wharf_login_csrf')!, /Max-Age=0/);
    // Behind a trusted proxy that says the client used HTTPS.
    const https = { 'x-forwarded-proto': 'https', 'x-forwarded-for': newAddress() };
    const f2 = await get(s, '/-/login', undefined, https);
    const f2cookie = cookieNamed(f2, 'wharf_login_csrf')!;
    assert.match(f2cookie, /; Secure$/);
    const r2 = await post(s, '/-/login', { csrf: csrfIn(await f2.text())!, username: 'alice', password: 'alice-password' }, f2cookie.split(';')[0], https);
    assert.match(cookieNamed(r2, 'wharf_session')!, /; HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/);
  });

  it('sets Secure on a server that serves HTTPS itself', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wharf-tls-session-'));
    const { ca } = makeCa(dir);
    const leaf = makeLeaf(dir, 'server');
    await writeFile(join(dir, 'server.pem'), leaf.cert);
    await writeFile(join(dir, 'server.key'), leaf.key);
    const tls = await startServer({ tlsCert: join(dir, 'server.pem'), tlsKey: join(dir, 'server.key') });
    try {
      const res = await httpsGet(`https://localhost:${tls.port}/-/login`, { ca, headers: { accept: BROWSER } });
      assert.equal(res.status, 200);
      const setCookie = (res.headers['set-cookie'] as string[]).find((c) => c.startsWith('wharf_login_csrf='))!;
      assert.match(setCookie, /; HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/);
    } finally {
      await tls.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stores only a hash of the secret; the cookie alone reads private repositories and pages', async () => {
    const b = await signIn(s, 'alice', 'alice-password');
    assert.ok(await s.wharf.store.getSession(hashSessionSecret(b.secret)), 'the row is found by the hash');
    assert.equal(await s.wharf.store.getSession(b.secret), undefined, 'the secret itself is not stored');
    assert.equal((await fetch(`${s.url}/vault/plans.txt`)).status, 401);
    const file = await fetch(`${s.url}/vault/plans.txt`, { headers: { cookie: b.cookie } });
    assert.equal(file.status, 200);
    assert.equal(await file.text(), 'the plans');
    assert.equal((await fetch(`${s.url}/vault/plans.txt`, { method: 'HEAD', headers: { cookie: b.cookie } })).status, 200);
    // The home page, once kept in the response cache for anonymous viewers, is not what a signed-in browser gets.
    assert.doesNotMatch(await (await get(s, '/')).text(), /vault/);
    assert.doesNotMatch(await (await get(s, '/')).text(), /vault/);
    const mine = await get(s, '/', b.cookie);
    const body = await mine.text();
    assert.match(body, /href="\/vault\/"/, 'the signed-in browser sees its private repositories');
    assert.match(body, /Signed in as <strong>alice<\/strong>/);
    assert.match(body, /<form class="signout" method="post" action="\/-\/logout"><input type="hidden" name="csrf" value="[^"]+">/);
    assert.match(mine.headers.get('cache-control')!, /private/);
    assert.match(mine.headers.get('vary')!, /Cookie/);
    // The JSON API never sees the cookie, reads included (it is for programs, with tokens).
    const who = await fetch(`${s.url}/-/api/v1/whoami`, { headers: { cookie: b.cookie } });
    assert.equal((await who.json() as { user: unknown }).user, null);
  });

  it('never lets the cookie alone write through the JSON API, uploads or deletes', async () => {
    const admin = await signIn(s, 'admin', ADMIN_PASSWORD);
    const alice = await signIn(s, 'alice', 'alice-password');
    const tokensBefore = (await s.wharf.store.listTokens()).length;
    const usersBefore = await s.wharf.store.countUsers();
    for (const [method, path, body] of [
      ['POST', '/tokens', { name: 'via-cookie' }],
      ['POST', '/users', { name: 'mallory', password: 'mallory-password', admin: true }],
      ['PATCH', '/users/admin', { password: 'changed-by-cookie' }],
      ['PUT', '/users/alice/grants', { repo: '*', permission: 'admin' }],
      ['DELETE', '/users/bob', undefined],
      ['POST', '/repositories', { name: 'made-by-cookie', format: 'files' }],
      ['DELETE', '/repositories/vault', undefined],
    ] as const) {
      const res = await apiAs(s, method, path, body, { cookie: admin.cookie });
      assert.equal(res.status, 401, `${method} ${path} with an admin's cookie: ${res.status}`);
    }
    assert.equal((await s.wharf.store.listTokens()).length, tokensBefore);
    assert.equal(await s.wharf.store.countUsers(), usersBefore);
    assert.ok(s.wharf.repo('vault'));
    assert.equal(s.wharf.repo('made-by-cookie'), undefined);
    // Uploads and deletes of repository content, by a user who may write (alice: write on *).
    const wheel = buildWheel({ name: 'cookiepkg', version: '1.0' });
    const form = new FormData();
    form.set(':action', 'file_upload');
    form.set('protocol_version', '1');
    form.set('name', 'cookiepkg');
    form.set('version', '1.0');
    form.set('filetype', 'bdist_wheel');
    form.set('content', new Blob([wheel]), wheelFilename({ name: 'cookiepkg', version: '1.0' }));
    assert.equal((await fetch(`${s.url}/team/`, { method: 'POST', body: form, headers: { cookie: alice.cookie } })).status, 401);
    assert.equal((await fetch(`${s.url}/vault/new.txt`, { method: 'PUT', body: 'x', headers: { cookie: alice.cookie } })).status, 401);
    assert.equal((await fetch(`${s.url}/vault/plans.txt`, { method: 'DELETE', headers: { cookie: alice.cookie } })).status, 401);
    assert.equal((await fetch(`${s.url}/vault/plans.txt`, { headers: { cookie: alice.cookie } })).status, 200, 'still there');
    assert.equal(await s.wharf.store.getPackage(s.wharf.requireRepo('team').id, 'cookiepkg'), undefined);
    // With an Authorization header the cookie is ignored, even a wrong one for a good session.
    assert.equal((await fetch(`${s.url}/vault/plans.txt`, { headers: { cookie: admin.cookie, authorization: basic('bob', 'bob-password') } })).status, 403);
  });

  it('refuses every form POST without a valid CSRF token with 403, and changes nothing', async () => {
    const admin = await signIn(s, 'admin', ADMIN_PASSWORD);
    const other = await signIn(s, 'admin', ADMIN_PASSWORD);
    const token = await apiAs(s, 'POST', '/tokens', { name: 'keep' }, { authorization: s.adminAuth });
    const tokenId = (await token.json() as { id: string }).id;
    const params: Record<string, string> = { ':id': tokenId, ':name': 'vault' };
    const fields: Record<string, Record<string, string>> = {
      '/-/login': { username: 'admin', password: ADMIN_PASSWORD },
      '/-/tokens': { name: 'sneaky', repos: '*', permission: 'admin' },
      '/-/admin/repositories': { name: 'sneaky', format: 'files', kind: 'hosted' },
      '/-/admin/users': { name: 'sneaky', password: 'sneaky-password', admin: '1' },
      '/-/admin/repositories/:name/delete': { confirm: 'vault' },
      '/-/admin/users/:name/delete': { confirm: 'bob' },
    };
    const state = async () => JSON.stringify({
      tokens: (await s.wharf.store.listTokens()).map((t) => t.id).sort(),
      users: (await s.wharf.store.listUsers()).map((u) => u.name),
      repos: s.wharf.listRepos().map((r) => r.name).sort(),
      sessions: await Promise.all([admin, other].map(async (b) => !!(await s.wharf.store.getSession(hashSessionSecret(b.secret))))),
    });
    const before = await state();
    let calls = 0;
    for (const route of FORM_ROUTES) {
      const path = route.replace(/:id|:name/g, (p) => (p === ':name' && route.includes('users') ? 'bob' : params[p]));
      const base = fields[route] ?? {};
      const attempts: [string, Record<string, string>, string | undefined][] = [
        ['no token', base, admin.cookie],
        ['a wrong token', { ...base, csrf: 'x'.repeat(32) }, admin.cookie],
        ['another session\'s token', { ...base, csrf: other.csrf }, admin.cookie],
        ['the token without its session', { ...base, csrf: admin.csrf }, undefined],
      ];
      if (route === '/-/login') {
        const form = await loginForm(s);
        attempts.push(['a token without its cookie', { ...base, csrf: form.csrf }, undefined], ['another form\'s cookie', { ...base, csrf: form.csrf }, (await loginForm(s)).cookie]);
      }
      for (const [what, body, cookie] of attempts) {
        const res = await post(s, path, body, cookie, { 'x-forwarded-for': newAddress() });
        calls++;
        assert.equal(res.status, 403, `${route} with ${what}: ${res.status}`);
        assert.match(res.headers.get('content-type')!, /text\/html/);
        assert.equal(cookieNamed(res, 'wharf_session'), undefined, `${route} with ${what} set no session`);
        assert.equal(await state(), before, `${route} with ${what} changed nothing`);
      }
    }
    assert.equal(calls, FORM_ROUTES.length * 4 + 2);
    // The same forms with the right token do work (the refusals above were about the token).
    const res = await post(s, '/-/tokens', { ...fields['/-/tokens'], csrf: admin.csrf }, admin.cookie);
    assert.equal(res.status, 201);
  });

  it('ends a session at sign-out, on a password change and when the user is deleted', async () => {
    const b = await signIn(s, 'carol', 'carol-password');
    assert.equal((await get(s, '/-/tokens', b.cookie)).status, 200);
    const out = await post(s, '/-/logout', { csrf: b.csrf }, b.cookie);
    assert.equal(out.status, 303);
    assert.match(cookieNamed(out, 'wharf_session')!, /^wharf_session=; .*Max-Age=0/);
    assert.equal(await s.wharf.store.getSession(hashSessionSecret(b.secret)), undefined);
    assert.equal((await get(s, '/-/tokens', b.cookie)).status, 303, 'the old cookie no longer signs in');

    const c1 = await signIn(s, 'carol', 'carol-password');
    const c2 = await signIn(s, 'carol', 'carol-password');
    assert.equal(await s.wharf.store.countSessionsOfUser((await s.wharf.store.getUserByName('carol'))!.id), 2);
    const changed = await apiAs(s, 'PATCH', '/users/carol', { password: 'carol-new-password' }, { authorization: basic('carol', 'carol-password') });
    assert.equal(changed.status, 200);
    for (const c of [c1, c2]) {
      assert.equal((await get(s, '/-/tokens', c.cookie)).status, 303, 'signed out everywhere');
      assert.equal((await fetch(`${s.url}/-/api/v1/whoami`, { headers: { cookie: c.cookie } }).then((r) => r.json()) as { user: null }).user, null);
    }

    const g = await signIn(s, 'gone', 'gone-password');
    assert.equal((await apiAs(s, 'DELETE', '/users/gone', undefined, { authorization: s.adminAuth })).status, 204);
    assert.equal((await get(s, '/-/tokens', g.cookie)).status, 303);
    assert.equal(await s.wharf.store.getSession(hashSessionSecret(g.secret)), undefined, 'the row went with the user');
  });

  it('shares the login throttle with HTTP Basic, both ways', async () => {
    // Ten failed Basic passwords for thr1 from one address: the right one through the form is refused.
    const a = newAddress();
    for (let i = 0; i < 10; i++) {
      const r = await fetch(`${s.url}/vault/`, { headers: { authorization: basic('thr1', 'wrong'), 'x-forwarded-for': a } });
      assert.equal(r.status, 401);
    }
    const form = await loginForm(s, a);
    const res = await post(s, '/-/login', { csrf: form.csrf, username: 'thr1', password: 'thr1-password' }, form.cookie, { 'x-forwarded-for': a });
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) > 0);
    const body = await res.text();
    assert.match(body, /Too many failed sign-ins from here: try again in \d+ seconds\./);
    assert.match(body, /<form class="stack" method="post" action="\/-\/login">/, 'the form again');
    assert.equal(cookieNamed(res, 'wharf_session'), undefined);
    // Ten failed form sign-ins for thr2: the right password over Basic is refused.
    const b = newAddress();
    const f2 = await loginForm(s, b);
    for (let i = 0; i < 10; i++) {
      const r = await post(s, '/-/login', { csrf: f2.csrf, username: 'thr2', password: 'wrong' }, f2.cookie, { 'x-forwarded-for': b });
      assert.equal(r.status, 401);
      assert.equal(r.headers.get('www-authenticate'), null, 'no browser dialog over the form');
      assert.match(await r.text(), /Wrong user name or password\./);
    }
    const basicRes = await fetch(`${s.url}/vault/`, { headers: { authorization: basic('thr2', 'thr2-password'), 'x-forwarded-for': b } });
    assert.equal(basicRes.status, 429);
    // Another address is not affected.
    await signIn(s, 'thr2', 'thr2-password');
  });

  it('redirects after sign-in only to a path on this site', async () => {
    const b = await signIn(s, 'alice', 'alice-password', { next: '/team/?setup' });
    assert.ok(b.cookie);
    const address = newAddress();
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', '/\\/evil.example', 'javascript:alert(1)', '\\\\evil.example', '/%0a/evil', 'evil.example', '/\tevil']) {
      const form = await loginForm(s, address);
      const res = await post(s, '/-/login', { csrf: form.csrf, username: 'alice', password: 'alice-password', next }, form.cookie, { 'x-forwarded-for': address });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), next === '/%0a/evil' ? '/%0a/evil' : '/', next);
    }
    const good = await loginForm(s, address);
    const ok = await post(s, '/-/login', { csrf: good.csrf, username: 'alice', password: 'alice-password', next: '/team/?setup#pip' }, good.cookie, { 'x-forwarded-for': address });
    assert.equal(ok.headers.get('location'), '/team/?setup#pip');
    // The form carries only a safe next.
    const page = await (await get(s, '/-/login?next=//evil.example/', undefined, { 'x-forwarded-for': address })).text();
    assert.match(page, /name="next" value="\/"/);
  });

  it('refuses a session past its idle or absolute lifetime', async () => {
    const short = await startServer({ sessionIdleTimeout: 1 });
    try {
      const idle = await signIn(short, 'admin', ADMIN_PASSWORD);
      await new Promise((r) => setTimeout(r, 1300));
      assert.equal((await get(short, '/-/tokens', idle.cookie)).status, 303, 'idle for longer than sessionIdleTimeout');
      assert.equal(await short.wharf.store.getSession(hashSessionSecret(idle.secret)), undefined, 'and deleted');
      // In use, but older than sessionMaxAge (the idle limit raised so that only the age counts).
      short.wharf.sessions.options = { idleMs: 60_000, maxAgeMs: 3000 };
      const busy = await signIn(short, 'admin', ADMIN_PASSWORD);
      assert.equal((await get(short, '/-/tokens', busy.cookie)).status, 200);
      await new Promise((r) => setTimeout(r, 3200));
      assert.equal((await get(short, '/-/tokens', busy.cookie)).status, 303, 'older than sessionMaxAge');
    } finally {
      await short.close();
    }
  });

  it('lists, creates and revokes tokens in the page; mistakes come back on the form', async () => {
    const b = await signIn(s, 'alice', 'alice-password');
    const created = await post(s, '/-/tokens', { csrf: b.csrf, name: 'ci', repos: 'team', permission: 'write', days: '30' }, b.cookie);
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('cache-control'), 'no-store');
    const page = await created.text();
    const token = /<code id="new-token">([^<]+)<\/code>/.exec(page)![1];
    assert.match(page, new RegExp(`data-copy="${token}"`));
    assert.match(page, new RegExp(`twine upload --repository team dist/\\*`));
    assert.match(page, new RegExp(`password = ${token}`));
    assert.doesNotMatch(page, /YOUR_TOKEN|wharf token create/);
    // It works, and it is listed without its secret.
    assert.equal((await fetch(`${s.url}/team/simple/`, { headers: { authorization: basic('__token__', token) } })).status, 200);
    const list = await (await get(s, '/-/tokens', b.cookie)).text();
    assert.match(list, /<td>ci<\/td><td>team<\/td><td>write<\/td>/);
    assert.ok(!list.includes(token));
    const id = token.split('_')[1];
    // Mistakes: the form again with 400, nothing made.
    const count = (await s.wharf.store.listTokens()).length;
    for (const [fields, message] of [
      [{ name: '' }, /Give the token a name/],
      [{ name: 'x', repos: 'bad/pattern' }, /is not a repository name or pattern/],
      [{ name: 'x', permission: 'root' }, /Choose read, write or admin/],
      [{ name: 'x', days: '-1' }, /The expiry is a number of days/],
    ] as const) {
      const res = await post(s, '/-/tokens', { csrf: b.csrf, ...fields }, b.cookie);
      assert.equal(res.status, 400);
      assert.match(await res.text(), message);
    }
    assert.equal((await s.wharf.store.listTokens()).length, count);
    // Someone else's token cannot be revoked here.
    const bob = await signIn(s, 'bob', 'bob-password');
    assert.equal((await post(s, `/-/tokens/${id}/revoke`, { csrf: bob.csrf }, bob.cookie)).status, 404);
    const revoked = await post(s, `/-/tokens/${id}/revoke`, { csrf: b.csrf }, b.cookie);
    assert.equal(revoked.status, 303);
    assert.equal(revoked.headers.get('location'), '/-/tokens');
    assert.equal((await fetch(`${s.url}/team/simple/`, { headers: { authorization: basic('__token__', token) } })).status, 401);
    // Anonymous viewers are sent to sign in; HTTP Basic viewers are told to use the form.
    const anon = await get(s, '/-/tokens');
    assert.equal(anon.status, 303);
    assert.equal(anon.headers.get('location'), '/-/login?next=%2F-%2Ftokens');
    const viaBasic = await get(s, '/-/tokens', undefined, { authorization: basic('alice', 'alice-password') });
    assert.equal(viaBasic.status, 403);
    assert.match(await viaBasic.text(), /sign-in through the form/);
  });

  it('has administration pages for server administrators only, with create and a confirmed delete', async () => {
    const admin = await signIn(s, 'admin', ADMIN_PASSWORD);
    const alice = await signIn(s, 'alice', 'alice-password');
    for (const path of ['/-/admin/repositories', '/-/admin/users']) {
      assert.equal((await get(s, path)).status, 404, `${path} anonymous`);
      assert.equal((await get(s, path, alice.cookie)).status, 404, `${path} as a user`);
      assert.equal((await post(s, path, { csrf: alice.csrf, name: 'x', format: 'files', password: 'xxxxxxxxxx' }, alice.cookie)).status, 404, `POST ${path} as a user`);
      assert.equal((await get(s, path, undefined, { authorization: s.adminAuth })).status, 403, `${path} by HTTP Basic`);
      assert.equal((await get(s, path, admin.cookie)).status, 200);
    }
    // Repositories: create, mistakes with their 4xx, a delete that asks first.
    const make = (fields: Record<string, string>) => post(s, '/-/admin/repositories', { csrf: admin.csrf, format: 'files', kind: 'hosted', ...fields }, admin.cookie);
    const made = await make({ name: 'made-here', access: 'private' });
    assert.equal(made.status, 303);
    assert.equal(s.wharf.repo('made-here')?.publicRead, false);
    for (const [fields, status, message] of [
      [{ name: 'made-here' }, 409, /already exists/],
      [{ name: 'Bad Name!' }, 400, /.+/],
      [{ name: 'nope', format: 'nosuch' }, 400, /There is no format nosuch/],
      [{ name: 'prox', kind: 'proxy', upstream: 'not a url' }, 400, /.+/],
      [{ name: 'grp', kind: 'group', members: 'missing-member' }, 400, /.+/],
    ] as const) {
      const res = await make(fields);
      assert.equal(res.status, status, JSON.stringify(fields));
      const body = await res.text();
      assert.match(body, /<p class="notice" role="alert">/);
      assert.match(body, message);
    }
    const grp = await make({ name: 'grp-here', kind: 'group', members: 'made-here vault' });
    assert.equal(grp.status, 303);
    assert.deepEqual(s.wharf.requireRepo('grp-here').options.members, ['made-here', 'vault']);
    const ask = await post(s, '/-/admin/repositories/made-here/delete', { csrf: admin.csrf }, admin.cookie);
    assert.equal(ask.status, 200);
    assert.match(await ask.text(), /Delete repository made-here\?/);
    assert.ok(s.wharf.repo('made-here'), 'asking deletes nothing');
    const inGroup = await post(s, '/-/admin/repositories/made-here/delete', { csrf: admin.csrf, confirm: 'made-here' }, admin.cookie);
    assert.equal(inGroup.status, 409, 'a group member is not deleted');
    assert.equal((await post(s, '/-/admin/repositories/grp-here/delete', { csrf: admin.csrf, confirm: 'grp-here' }, admin.cookie)).status, 303);
    assert.equal((await post(s, '/-/admin/repositories/made-here/delete', { csrf: admin.csrf, confirm: 'made-here' }, admin.cookie)).status, 303);
    assert.equal(s.wharf.repo('made-here'), undefined);
    assert.equal((await post(s, '/-/admin/repositories/made-here/delete', { csrf: admin.csrf, confirm: 'made-here' }, admin.cookie)).status, 404);
    // Users.
    const user = (fields: Record<string, string>) => post(s, '/-/admin/users', { csrf: admin.csrf, ...fields }, admin.cookie);
    assert.equal((await user({ name: 'dave', password: 'dave-password' })).status, 303);
    for (const [fields, status] of [[{ name: 'dave', password: 'dave-password' }, 409], [{ name: 'bad name', password: 'long-enough' }, 400], [{ name: 'erin', password: 'short' }, 400]] as const) {
      assert.equal((await user(fields)).status, status, JSON.stringify(fields));
    }
    const dave = await signIn(s, 'dave', 'dave-password');
    assert.equal((await post(s, '/-/admin/users/dave/delete', { csrf: admin.csrf }, admin.cookie)).status, 200, 'asks first');
    assert.equal((await post(s, '/-/admin/users/admin/delete', { csrf: admin.csrf, confirm: 'admin' }, admin.cookie)).status, 400, 'not yourself');
    assert.equal((await post(s, '/-/admin/users/dave/delete', { csrf: admin.csrf, confirm: 'dave' }, admin.cookie)).status, 303);
    assert.equal(await s.wharf.store.getUserByName('dave'), undefined);

    assert.equal((await get(s, '/-/tokens', dave.cookie)).status, 303, 'their session ended');
  });

  it('takes only small urlencoded form bodies', async () => {
    const b = await signIn(s, 'alice', 'alice-password');
    const big = await post(s, '/-/tokens', { csrf: b.csrf, name: 'x'.repeat(20_000) }, b.cookie);
    assert.equal(big.status, 413);
    const json = await fetch(`${s.url}/-/tokens`, { method: 'POST', headers: { cookie: b.cookie, 'content-type': 'application/json' }, body: JSON.stringify({ csrf: b.csrf, name: 'x' }) });
    assert.equal(json.status, 415);
  });
});
