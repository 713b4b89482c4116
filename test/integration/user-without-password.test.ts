// A user created without a password (`wharf migrate-from` moves users whose password hashes
// cannot be verified here): no password logs in until an administrator sets one; a token
// minted for them works.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { basic, startServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.close());

const api = (path: string, method = 'GET', body?: unknown, auth = server.adminAuth) => fetch(`${server.url}/-/api/v1${path}`, {
  method, headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body),
});

it('creates a user with no password: no password logs in, a token minted for them does, and a password set later does', async () => {
  const created = await api('/users', 'POST', { name: 'nopass' });
  assert.equal(created.status, 201, await created.clone().text());
  assert.equal(((await created.json()) as { name: string }).name, 'nopass');
  for (const pw of ['', '!', '*', 'anything-long-enough']) {
    assert.equal((await api('/whoami', 'GET', undefined, basic('nopass', pw))).status, 401, `password ${JSON.stringify(pw)}`);
  }
  const tok = (await (await api('/tokens', 'POST', { name: 'minted', user: 'nopass' })).json()) as { token: string };
  const who = (await (await api('/whoami', 'GET', undefined, `Bearer ${tok.token}`)).json()) as { user: { name: string } };
  assert.equal(who.user.name, 'nopass');
  assert.equal((await api('/users/nopass', 'PATCH', { password: 'a-new-password-1' })).status, 200);
  assert.equal((await api('/whoami', 'GET', undefined, basic('nopass', 'a-new-password-1'))).status, 200);
});
