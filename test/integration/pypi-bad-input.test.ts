// Bad uploads each answer a clear 4xx and leave nothing behind: no rows, no blobs, no temp files.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { buildZip, deflatedZeros } from '../helpers/zip.ts';
import { basic, startServer, type TestServer } from '../helpers/server.ts';

interface UploadOpts {
  filename?: string;
  fields?: Record<string, string>;
  auth?: string | null;
  repo?: string;
}

describe('PyPI uploads refuse bad input and store nothing', () => {
  let server: TestServer;
  let readToken: string;
  let otherRepoToken: string;

  const upload = async (data: Buffer, o: UploadOpts = {}) => {
    const form = new FormData();
    form.set(':action', 'file_upload');
    form.set('protocol_version', '1');
    for (const [k, v] of Object.entries(o.fields ?? {})) form.set(k, v);
    form.set('content', new Blob([data]), o.filename ?? 'demo-1.0-py3-none-any.whl');
    const headers: Record<string, string> = {};
    if (o.auth !== null) headers.authorization = o.auth ?? server.adminAuth;
    const res = await fetch(`${server.url}/${o.repo ?? 'pypi'}/`, { method: 'POST', body: form, headers });
    return { status: res.status, text: await res.text(), reason: res.statusText };
  };

  const assertNothingStored = async () => {
    const stats = await server.wharf.store.repoStats(server.wharf.requireRepo('pypi').id);
    assert.equal(stats.files, 0, 'no file rows');
    assert.equal(stats.packages, 0, 'no package rows');
    const blobs = (await server.wharf.store.sql.get('SELECT COUNT(*) AS n FROM blobs')) as { n: number | bigint };
    assert.equal(Number(blobs.n), 0, 'no blob rows');
    const dirs = (await readdir(join(server.data, 'blobs'))).filter((d) => d !== 'tmp');
    assert.deepEqual(dirs, [], 'no blob files');
    assert.deepEqual(await readdir(join(server.data, 'blobs', 'tmp')), [], 'no staged temp files left');
  };

  const good = () => buildWheel({ name: 'demo', version: '1.0' });

  before(async () => {
    server = await startServer();
    const h = { authorization: server.adminAuth, 'content-type': 'application/json' };
    await fetch(`${server.url}/-/api/v1/repositories`, { method: 'POST', headers: h, body: JSON.stringify({ name: 'other', format: 'pypi' }) });
    const mk = async (body: object) => ((await (await fetch(`${server.url}/-/api/v1/tokens`, { method: 'POST', headers: h, body: JSON.stringify(body) })).json()) as { token: string }).token;
    readToken = await mk({ name: 'ro', repos: ['pypi'], permission: 'read' });
    otherRepoToken = await mk({ name: 'other', repos: ['other'], permission: 'write' });
  });
  after(async () => server.close());

  it('a wrong sha256_digest or md5_digest', async () => {
    const r = await upload(good(), { fields: { sha256_digest: 'a'.repeat(64) } });
    assert.equal(r.status, 400);
    assert.match(r.text, /sha256_digest does not match/);
    assert.match(r.reason, /sha256_digest does not match/, 'twine shows the reason phrase');
    const m = await upload(good(), { fields: { md5_digest: 'b'.repeat(32) } });
    assert.equal(m.status, 400);
    await assertNothingStored();
  });

  it('a name or version that does not match the filename or the form', async () => {
    const lying = buildWheel({ name: 'demo', version: '1.0', metadataOverride: 'Metadata-Version: 2.1\nName: gamma\nVersion: 1.0\n\n' });
    const r = await upload(lying);
    assert.equal(r.status, 400);
    assert.match(r.text, /metadata says gamma/);
    const v = await upload(buildWheel({ name: 'demo', version: '1.0', metadataOverride: 'Metadata-Version: 2.1\nName: demo\nVersion: 2.0\n\n' }));
    assert.equal(v.status, 400);
    const f = await upload(good(), { fields: { name: 'other-name' } });
    assert.equal(f.status, 400);
    assert.match(f.text, /form says other-name/);
    const bad = await upload(good(), { filename: 'demo-notaversion!-py3-none-any.whl' });
    assert.equal(bad.status, 400);
    await assertNothingStored();
  });

  it('a truncated zip and garbage bytes', async () => {
    const whl = good();
    const r = await upload(whl.subarray(0, whl.length - 30));
    assert.equal(r.status, 400);
    const g = await upload(Buffer.from('this is not a zip file at all'));
    assert.equal(g.status, 400);
    const empty = await upload(Buffer.alloc(0));
    assert.equal(empty.status, 400);
    await assertNothingStored();
  });

  it('a METADATA entry that inflates to gigabytes, declared or lying', async () => {
    const bomb = deflatedZeros(2 * 1024 ** 3);
    const crc = 0; // never checked: the reader stops long before the end
    const declared = buildZip([
      { name: 'demo-1.0.dist-info/METADATA', raw: bomb, declaredUncompressedSize: 2 * 1024 ** 3 - 1, crc32: crc },
      { name: 'demo-1.0.dist-info/WHEEL', data: 'Wheel-Version: 1.0\n' },
    ]);
    const r = await upload(declared);
    assert.equal(r.status, 400);
    assert.match(r.text, /METADATA/);
    const lying = buildZip([
      { name: 'demo-1.0.dist-info/METADATA', raw: bomb, declaredUncompressedSize: 300, crc32: crc },
      { name: 'demo-1.0.dist-info/WHEEL', data: 'Wheel-Version: 1.0\n' },
    ]);
    const l = await upload(lying);
    assert.equal(l.status, 400);
    await assertNothingStored();
  });

  it('path traversal and path separators in the filename', async () => {
    for (const filename of ['../demo-1.0-py3-none-any.whl', '..%2Fdemo-1.0-py3-none-any.whl', 'sub/demo-1.0-py3-none-any.whl', '..\\demo-1.0-py3-none-any.whl', '.demo-1.0-py3-none-any.whl']) {
      const r = await upload(good(), { filename });
      assert.equal(r.status, 400, filename);
    }
    await assertNothingStored();
  });

  it('no credentials, wrong credentials, a read-only token, a token for another repository', async () => {
    assert.equal((await upload(good(), { auth: null })).status, 401);
    assert.equal((await upload(good(), { auth: basic('admin', 'wrong-password') })).status, 401);
    assert.equal((await upload(good(), { auth: basic('__token__', readToken) })).status, 403);
    assert.equal((await upload(good(), { auth: basic('__token__', otherRepoToken) })).status, 403);
    assert.equal((await upload(good(), { auth: basic('__token__', 'wharf_000000000000_notarealtokenatallreally') })).status, 401);
    await assertNothingStored();
  });

  it('oversized form fields and extra file parts', async () => {
    const r = await upload(good(), { fields: { description: 'x'.repeat(2 * 1024 * 1024) } });
    assert.equal(r.status, 413);
    const form = new FormData();
    form.set(':action', 'file_upload');
    form.set('content', new Blob([good()]), 'demo-1.0-py3-none-any.whl');
    form.set('gpg_signature', new Blob([Buffer.from('sig')]), 'demo-1.0-py3-none-any.whl.asc');
    const two = await fetch(`${server.url}/pypi/`, { method: 'POST', body: form, headers: { authorization: server.adminAuth } });
    assert.equal(two.status, 400);
    const notMultipart = await fetch(`${server.url}/pypi/`, { method: 'POST', body: 'x=1', headers: { authorization: server.adminAuth, 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(notMultipart.status, 415);
    const noFile = new FormData();
    noFile.set(':action', 'file_upload');
    assert.equal((await fetch(`${server.url}/pypi/`, { method: 'POST', body: noFile, headers: { authorization: server.adminAuth } })).status, 400);
    await assertNothingStored();
  });

  it('a digest mismatch on the API upload', async () => {
    const data = good();
    const res = await fetch(`${server.url}/-/api/v1/repositories/pypi/upload?filename=${wheelFilename({ name: 'demo', version: '1.0' })}&sha256=${'c'.repeat(64)}`, {
      method: 'POST', body: data, headers: { authorization: server.adminAuth, 'content-type': 'application/octet-stream' },
    });
    assert.equal(res.status, 400);
    await assertNothingStored();
    const ok = await fetch(`${server.url}/-/api/v1/repositories/pypi/upload?filename=${wheelFilename({ name: 'demo', version: '1.0' })}&sha256=${createHash('sha256').update(data).digest('hex')}`, {
      method: 'POST', body: data, headers: { authorization: server.adminAuth, 'content-type': 'application/octet-stream' },
    });
    assert.equal(ok.status, 201);
  });

  it('an expired token is refused, and tokens cannot be created already expired', async () => {
    const h = { authorization: server.adminAuth, 'content-type': 'application/json' };
    const past = await fetch(`${server.url}/-/api/v1/tokens`, { method: 'POST', headers: h, body: JSON.stringify({ name: 'old', expiresAt: '2000-01-01T00:00:00Z' }) });
    assert.equal(past.status, 400);
    const t = await (await fetch(`${server.url}/-/api/v1/tokens`, { method: 'POST', headers: h, body: JSON.stringify({ name: 'soon', expiresInDays: 1 }) })).json() as { id: string; token: string };
    assert.equal((await fetch(`${server.url}/-/api/v1/whoami`, { headers: { authorization: `Bearer ${t.token}` } })).status, 200);
    await server.wharf.store.sql.run('UPDATE tokens SET expires_at = ? WHERE id = ?', ['2001-01-01T00:00:00.000Z', t.id]);

    assert.equal((await fetch(`${server.url}/-/api/v1/whoami`, { headers: { authorization: `Bearer ${t.token}` } })).status, 401);
    const revoked = await (await fetch(`${server.url}/-/api/v1/tokens`, { method: 'POST', headers: h, body: JSON.stringify({ name: 'gone' }) })).json() as { id: string; token: string };
    assert.equal((await fetch(`${server.url}/-/api/v1/tokens/${revoked.id}`, { method: 'DELETE', headers: { authorization: server.adminAuth } })).status, 204);
    assert.equal((await fetch(`${server.url}/-/api/v1/whoami`, { headers: { authorization: `Bearer ${revoked.token}` } })).status, 401);
  });

  it('publishes an OpenAPI document of the management API, and refuses bad API bodies with 400', async () => {
    const doc = await (await fetch(`${server.url}/-/api/v1/openapi.json`)).json() as { openapi: string; paths: Record<string, object> };
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/-/api/v1/repositories/{name}/upload']);
    assert.ok(doc.paths['/-/api/v1/tokens']);
    const h = { authorization: server.adminAuth, 'content-type': 'application/json' };
    assert.equal((await fetch(`${server.url}/-/api/v1/repositories`, { method: 'POST', headers: h, body: '{not json' })).status, 400);
    assert.equal((await fetch(`${server.url}/-/api/v1/repositories`, { method: 'POST', headers: h, body: JSON.stringify({ name: 'x', format: 'pypi', extra: 1 }) })).status, 400);
    assert.equal((await fetch(`${server.url}/-/api/v1/users`, { method: 'POST', headers: h, body: JSON.stringify({ name: 'bob', password: 'short' }) })).status, 400);
    assert.equal((await fetch(`${server.url}/-/api/v1/repositories`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'y', format: 'pypi' }) })).status, 401);
  });

  it('exposes Prometheus metrics, private repositories to administrators only', async () => {
    const h = { authorization: server.adminAuth, 'content-type': 'application/json' };
    await fetch(`${server.url}/-/api/v1/repositories`, { method: 'POST', headers: h, body: JSON.stringify({ name: 'hidden', format: 'pypi', public: false }) });
    const anon = await (await fetch(`${server.url}/-/metrics`)).text();
    assert.match(anon, /^wharf_repository_files\{repo="pypi",format="pypi",kind="hosted"\} \d+$/m);
    assert.doesNotMatch(anon, /hidden/);
    assert.match(anon, /^# TYPE wharf_http_responses_total counter$/m);
    const admin = await (await fetch(`${server.url}/-/metrics`, { headers: { authorization: server.adminAuth } })).text();
    assert.match(admin, /repo="hidden"/);
  });

  it('repeated failed logins are throttled with 429', async () => {
    let last = 0;
    for (let i = 0; i < 12; i++) last = (await fetch(`${server.url}/-/api/v1/whoami`, { headers: { authorization: basic('nobody', `guess-${i}`) } })).status;
    assert.equal(last, 429);
  });
});
