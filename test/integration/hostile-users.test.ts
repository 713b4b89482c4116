// Hostile users (issue 8, defects 2-4): a token taking over its owner's account, a group
// admin reading private repositories through a group, and failed logins locking out
// everyone behind a reverse proxy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basic, startServer, type TestServer } from '../helpers/server.ts';

async function api(server: TestServer, method: string, path: string, auth: string | null, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/-/api/v1${path}`, {
    method,
    headers: { ...(auth ? { authorization: auth } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const bearer = (t: string) => `Bearer ${t}`;

describe('a token cannot take over its owner\'s account (defect 2)', () => {
  let server: TestServer;
  const alice = basic('alice', 'alice-password-1');
  let readToken: string;
  let adminToken: string;

  before(async () => {
    server = await startServer();
    assert.equal((await api(server, 'POST', '/repositories', server.adminAuth, { name: 'one', format: 'files', public: false })).status, 201);
    assert.equal((await api(server, 'POST', '/users', server.adminAuth, { name: 'alice', password: 'alice-password-1' })).status, 201);
    assert.equal((await api(server, 'PUT', '/users/alice/grants', server.adminAuth, { repo: '*', permission: 'admin' })).status, 200);
    readToken = (await api(server, 'POST', '/tokens', alice, { name: 'ci', repos: ['one'], permission: 'read' })).body.token;
    adminToken = (await api(server, 'POST', '/tokens', server.adminAuth, { name: 'cli', repos: ['*'], permission: 'admin' })).body.token;
  });
  after(() => server.close());

  it('a read token scoped to one repository cannot change its owner\'s password', async () => {
    const r = await api(server, 'PATCH', '/users/alice', bearer(readToken), { password: 'taken-over-123' });
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.equal((await api(server, 'GET', '/whoami', basic('alice', 'taken-over-123'))).status, 401, 'the new password does not work');
    assert.equal((await api(server, 'GET', '/whoami', alice)).status, 200, 'the old one still does');
  });

  it('not even a server admin\'s admin token on every repository manages users, grants or tokens', async () => {
    const t = bearer(adminToken);
    assert.equal((await api(server, 'PATCH', '/users/admin', t, { password: 'taken-over-123' })).status, 403);
    assert.equal((await api(server, 'PATCH', '/users/alice', t, { password: 'taken-over-123' })).status, 403);
    assert.equal((await api(server, 'PATCH', '/users/alice', t, { admin: true })).status, 403);
    assert.equal((await api(server, 'POST', '/users', t, { name: 'mallory', password: 'mallory-password' })).status, 403);
    assert.equal((await api(server, 'DELETE', '/users/alice', t)).status, 403);
    assert.equal((await api(server, 'PUT', '/users/alice/grants', t, { repo: 'one', permission: null })).status, 403);
    assert.equal((await api(server, 'POST', '/tokens', t, { name: 'more' })).status, 403);
    const other = (await api(server, 'POST', '/tokens', alice, { name: 'other', repos: ['one'], permission: 'read' })).body;
    assert.equal((await api(server, 'DELETE', `/tokens/${other.id}`, t)).status, 403);
    // What a server admin's token may still do: repositories, and reading lists.
    assert.equal((await api(server, 'GET', '/users', t)).status, 200);
    assert.equal((await api(server, 'POST', '/repositories', t, { name: 'by-token', format: 'files' })).status, 201);
  });

  it('a token may revoke itself', async () => {
    const own = (await api(server, 'POST', '/tokens', alice, { name: 'short', repos: ['one'], permission: 'read' })).body;
    assert.equal((await api(server, 'DELETE', `/tokens/${own.id}`, bearer(own.token))).status, 204);
    assert.equal((await api(server, 'GET', '/whoami', bearer(own.token))).status, 401);
  });
});

describe('a repository admin cannot read repositories through a group (defect 3)', () => {
  let server: TestServer;
  const bob = basic('bob', 'bob-password-1');

  before(async () => {
    server = await startServer();
    for (const spec of [
      { name: 'secret', format: 'files', public: false },
      { name: 'open', format: 'files' },
      { name: 'grp', format: 'files', kind: 'group', options: { members: ['open'] } },
      { name: 'psecret', format: 'pypi', public: false },
      { name: 'popen', format: 'pypi' },
      { name: 'pgrp', format: 'pypi', kind: 'group', options: { members: ['popen'] } },
      { name: 'px', format: 'files', kind: 'proxy', options: { upstream: 'http://127.0.0.1:9/' } },
    ]) assert.equal((await api(server, 'POST', '/repositories', server.adminAuth, spec)).status, 201);
    const put = await fetch(`${server.url}/secret/plans.txt`, { method: 'PUT', body: 'the plans', headers: { authorization: server.adminAuth } });
    assert.equal(put.status, 201);
    assert.equal((await api(server, 'POST', '/users', server.adminAuth, { name: 'bob', password: 'bob-password-1' })).status, 201);
    for (const repo of ['grp', 'pgrp', 'px']) assert.equal((await api(server, 'PUT', '/users/bob/grants', server.adminAuth, { repo, permission: 'admin' })).status, 200);
  });
  after(() => server.close());

  it('an admin of a group cannot add a member they cannot read', async () => {
    const r = await api(server, 'PATCH', '/repositories/grp', bob, { options: { members: ['open', 'secret'] } });
    assert.ok(r.status === 400 || r.status === 403, `${r.status} ${JSON.stringify(r.body)}`);
    assert.deepEqual(server.wharf.requireRepo('grp').options.members, ['open']);
    assert.equal((await api(server, 'PATCH', '/repositories/pgrp', bob, { options: { members: ['psecret', 'popen'] } })).status >= 400, true);
    assert.equal((await api(server, 'PATCH', '/repositories/grp', bob, { options: { members: ['open'], uploadTo: 'open' } })).status, 403, 'uploadTo needs write on the member');
  });

  it('a group never serves a member to someone who cannot read it', async () => {
    // A server admin put the private repository into the public group.
    assert.equal((await api(server, 'PATCH', '/repositories/grp', server.adminAuth, { options: { members: ['open', 'secret'] } })).status, 200);
    assert.equal((await fetch(`${server.url}/grp/plans.txt`)).status, 404, 'anonymous');
    assert.equal((await fetch(`${server.url}/grp/plans.txt`, { headers: { authorization: bob } })).status, 404, 'bob has no grant on secret');
    const listing = await fetch(`${server.url}/grp/`, { headers: { accept: 'application/json' } });
    assert.doesNotMatch(await listing.text(), /plans/);
    const admin = await fetch(`${server.url}/grp/plans.txt`, { headers: { authorization: server.adminAuth } });
    assert.equal(admin.status, 200);
    assert.equal(await admin.text(), 'the plans');
    assert.match(admin.headers.get('cache-control') ?? '', /private/, 'a shared cache must not keep it for others');
  });

  it('only server admins open ports or point a proxy somewhere else', async () => {
    assert.equal((await api(server, 'PATCH', '/repositories/grp', bob, { options: { listen: 0 } })).status, 403);
    assert.equal((await api(server, 'PATCH', '/repositories/px', bob, { options: { upstream: 'http://169.254.169.254/' } })).status, 403);
    assert.equal((await api(server, 'PATCH', '/repositories/px', bob, { options: { metadataTtl: 5 } })).status, 200, 'other proxy options are the repository admin\'s');
  });
});

describe('failed logins do not lock out everyone behind a proxy (defect 4)', () => {
  let server: TestServer;
  const carol = basic('carol', 'carol-password-1');
  const via = (addr: string) => ({ 'x-forwarded-for': addr });

  before(async () => {
    server = await startServer({ trustedProxies: ['127.0.0.1'] });
    assert.equal((await api(server, 'POST', '/users', server.adminAuth, { name: 'carol', password: 'carol-password-1' })).status, 201);
  });
  after(() => server.close());

  it('throttles the client that fails, not every client of the proxy', async () => {
    for (let i = 0; i < 12; i++) await api(server, 'GET', '/whoami', basic('carol', `wrong-${i}`), undefined, via('203.0.113.7'));
    const attacker = await api(server, 'GET', '/whoami', basic('carol', 'wrong-again'), undefined, via('203.0.113.7'));
    assert.equal(attacker.status, 429, 'guessing one name from one address is still throttled');
    const fromElsewhere = await api(server, 'GET', '/whoami', carol, undefined, via('198.51.100.20'));
    assert.equal(fromElsewhere.status, 200, JSON.stringify(fromElsewhere.body));
    const others = await api(server, 'GET', '/whoami', server.adminAuth, undefined, via('198.51.100.21'));
    assert.equal(others.status, 200);
  });

  it('never refuses a valid token, even from a throttled address', async () => {
    const t = (await api(server, 'POST', '/tokens', carol, { name: 'pip' }, via('198.51.100.20'))).body.token;
    for (let i = 0; i < 120; i++) await api(server, 'GET', '/whoami', basic(`user${i}`, 'spray'), undefined, via('203.0.113.9'));
    assert.equal((await api(server, 'GET', '/whoami', basic('someone', 'spray'), undefined, via('203.0.113.9'))).status, 429);
    assert.equal((await api(server, 'GET', '/whoami', bearer(t), undefined, via('203.0.113.9'))).status, 200);
  });

  it('ignores X-Forwarded-For from an address that is not a trusted proxy', async () => {
    const direct = await startServer();
    try {
      for (let i = 0; i < 11; i++) await api(direct, 'GET', '/whoami', basic('admin', `wrong-${i}`), undefined, via(`192.0.2.${i}`));
      // Each request claimed another address; the server counts the real one.
      assert.equal((await api(direct, 'GET', '/whoami', basic('admin', 'wrong-x'), undefined, via('192.0.2.99'))).status, 429);
    } finally {
      await direct.close();
    }
  });
});
