// A repository's aliases as a hostile client meets them: an alias of a private repository
// asks for the same credentials, an upload through it needs write on the repository it names,
// encoded or `..` paths reach nothing the repository itself does not, and an alias goes with
// its repository.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, it } from 'node:test';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { basic, startServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
const api = (path: string, method = 'GET', body?: unknown, auth = server.adminAuth) => fetch(`${server.url}/-/api/v1${path}`, {
  method, headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body),
});
/** A request with its path sent as written (fetch would resolve `..`). */
const raw = (path: string, auth?: string) => new Promise<number>((resolve, reject) => {
  const req = request(`${server.url}${path}`, { headers: auth ? { authorization: auth } : {} }, (res) => {
    res.resume();
    resolve(res.statusCode!);
  });
  req.on('error', reject);
  req.end();
});

before(async () => {
  server = await startServer();
  assert.equal((await api('/repositories', 'POST', { name: 'alice-dev', format: 'pypi', public: false, options: { aliases: ['alice/dev'] } })).status, 201);
  assert.equal((await api('/repositories', 'POST', { name: 'open', format: 'pypi', public: true })).status, 201);
  assert.equal((await api('/users', 'POST', { name: 'mallory', password: 'mallory-password-1' })).status, 201);
  assert.equal((await api('/users/mallory/grants', 'PUT', { repo: 'open', permission: 'write' })).status, 200);
  const w = { name: 'secret-lib', version: '1.0' };
  const up = await fetch(`${server.url}/-/api/v1/repositories/alice-dev/upload?filename=${wheelFilename(w)}`, { method: 'POST', headers: { authorization: server.adminAuth, 'content-type': 'application/octet-stream' }, body: buildWheel(w) });
  assert.equal(up.status, 201);
});
after(() => server.close());

it('an alias of a private repository asks for credentials, and gives another user nothing', async () => {
  assert.equal(await raw('/alice/dev/+simple/secret-lib/'), 401);
  assert.equal(await raw('/alice/dev/+simple/secret-lib/', basic('mallory', 'mallory-password-1')), 403);
  assert.equal(await raw('/alice/dev/+simple/secret-lib/', server.adminAuth), 200);
  // `..`, encoded slashes and dots, case: never another repository, never the private one unasked.
  for (const p of ['/alice/dev/../../alice-dev/simple/secret-lib/', '/alice/dev/+simple/..%2F..%2Falice-dev%2Fsimple%2Fsecret-lib/', '/alice%2Fdev/+simple/secret-lib/', '/alice/%2e%2e/alice-dev/simple/secret-lib/', '/Alice/Dev/+simple/secret-lib/', '/alice//dev/+simple/secret-lib/']) {
    const status = await raw(p, basic('mallory', 'mallory-password-1'));
    assert.ok(status === 401 || status === 403 || status === 404 || status === 400, `${p}: ${status}`);
  }
});

it('an upload through an alias needs write on the repository it names', async () => {
  const w = { name: 'evil', version: '1.0' };
  const form = new FormData();
  form.set(':action', 'file_upload');
  form.set('name', 'evil');
  form.set('version', '1.0');
  form.set('content', new Blob([buildWheel(w)]), wheelFilename(w));
  const res = await fetch(`${server.url}/alice/dev/`, { method: 'POST', headers: { authorization: basic('mallory', 'mallory-password-1') }, body: form });
  assert.equal(res.status, 403, await res.text());
});

it('an alias goes with its repository', async () => {
  assert.equal((await api('/repositories/alice-dev', 'DELETE')).status, 204);
  assert.equal(await raw('/alice/dev/+simple/secret-lib/', server.adminAuth), 404);
  // Free for another repository now.
  assert.equal((await api('/repositories/open', 'PATCH', { options: { aliases: ['alice/dev'] } })).status, 200);
  assert.equal(await raw('/alice/dev/+simple/'), 200);
});
