// `uploadedAt` on an upload or a batch entry: a migration keeps a file's original upload time
// (administrators only: it dates a file back, e.g. past a group's cooldown).
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import tar from 'tar-stream';
import { buffer } from 'node:stream/consumers';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { basic, startServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
before(async () => {
  server = await startServer();
  await server.wharf.createRepo({ name: 'mig', format: 'pypi' });
  const res = await fetch(`${server.url}/-/api/v1/users`, { method: 'POST', headers: { authorization: server.adminAuth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'writer', password: 'writer-password-1' }) });
  assert.equal(res.status, 201);
  await fetch(`${server.url}/-/api/v1/users/writer/grants`, { method: 'PUT', headers: { authorization: server.adminAuth, 'content-type': 'application/json' }, body: JSON.stringify({ repo: 'mig', permission: 'write' }) });
});
after(() => server.close());

const wheel = (name: string) => ({ filename: wheelFilename({ name, version: '1.0' }), data: buildWheel({ name, version: '1.0' }) });
const upload = (w: { filename: string; data: Buffer }, query: Record<string, string>, auth = server.adminAuth) =>
  fetch(`${server.url}/-/api/v1/repositories/mig/upload?${new URLSearchParams({ filename: w.filename, ...query })}`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/octet-stream' }, body: w.data });
const createdAt = async (filename: string) => {
  const files = (await (await fetch(`${server.url}/-/api/v1/repositories/mig/files`, { headers: { authorization: server.adminAuth } })).json()) as { files: { filename: string; createdAt: string }[] };
  return files.files.find((f) => f.filename === filename)?.createdAt;
};

it('keeps an administrator\'s uploadedAt, and the PyPI JSON API shows it', async () => {
  const w = wheel('kept-time');
  const res = await upload(w, { uploadedAt: '2019-03-04T05:06:07Z' });
  assert.equal(res.status, 201, await res.clone().text());
  assert.equal(await createdAt(w.filename), '2019-03-04T05:06:07.000Z');
  const json = (await (await fetch(`${server.url}/mig/pypi/kept-time/json`)).json()) as { urls: { upload_time_iso_8601: string }[] };
  assert.match(json.urls[0].upload_time_iso_8601, /^2019-03-04T05:06:07/);
  // The audit trail (dated now) says the file was dated back, and to when.
  const audit = (await (await fetch(`${server.url}/-/api/v1/audit?repo=mig&action=upload`, { headers: { authorization: server.adminAuth } })).json()) as { entries: { target: string; detail: { uploadedAt?: string } }[] };
  const entry = audit.entries.find((e) => e.target.endsWith(w.filename));
  assert.equal(entry?.detail.uploadedAt, '2019-03-04T05:06:07.000Z', JSON.stringify(entry));
});

it('refuses uploadedAt from a user who is not an administrator, a malformed one and one in the future', async () => {
  const w = wheel('refused-time');
  assert.equal((await upload(w, { uploadedAt: '2019-03-04T05:06:07Z' }, basic('writer', 'writer-password-1'))).status, 403);
  assert.equal((await upload(w, { uploadedAt: 'yesterday' })).status, 400);
  assert.equal((await upload(w, { uploadedAt: new Date(Date.now() + 86_400_000).toISOString() })).status, 400);
  // No time zone (the server's own would be taken), a day no month has, before 1970, huge: a 400 each.
  const tz = process.env.TZ;
  process.env.TZ = 'Pacific/Kiritimati';
  try {
    for (const bad of ['2019-03-04T05:06:07', '2019-02-30T00:00:00Z', '0000-01-01T00:00:00Z', '1969-12-31T23:59:59Z', `2019-03-04T05:06:07Z${'0'.repeat(4000)}`]) {
      const res = await upload(w, { uploadedAt: bad });
      assert.equal(res.status, 400, `${bad.slice(0, 30)}: ${await res.text()}`);
    }
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
  assert.equal(await createdAt(w.filename), undefined);
});

it('takes a batch entry\'s own uploadedAt from its pax record', async () => {
  const a = wheel('batch-old');
  const b = wheel('batch-new');
  const pack = tar.pack();
  pack.entry({ name: a.filename, pax: { 'WHARF.query': 'uploadedAt=2020-01-02T03:04:05Z' } }, a.data);
  pack.entry({ name: b.filename }, b.data);
  pack.finalize();
  const body = await buffer(pack);
  const res = await fetch(`${server.url}/-/api/v1/repositories/mig/batch`, { method: 'POST', headers: { authorization: server.adminAuth, 'content-type': 'application/x-tar' }, body });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(await createdAt(a.filename), '2020-01-02T03:04:05.000Z');
  const audit = (await (await fetch(`${server.url}/-/api/v1/audit?repo=mig&action=upload`, { headers: { authorization: server.adminAuth } })).json()) as { entries: { target: string; detail: { uploadedAt?: string } }[] };
  assert.equal(audit.entries.find((e) => e.target.endsWith(a.filename))?.detail.uploadedAt, '2020-01-02T03:04:05.000Z');
  assert.equal(audit.entries.find((e) => e.target.endsWith(b.filename))?.detail.uploadedAt, undefined);
  assert.ok(Date.now() - Date.parse((await createdAt(b.filename))!) < 600_000);
  const asWriter = tar.pack();
  const c = wheel('batch-writer');
  asWriter.entry({ name: c.filename, pax: { 'WHARF.query': 'uploadedAt=2020-01-02T03:04:05Z' } }, c.data);
  asWriter.finalize();
  const refused = await fetch(`${server.url}/-/api/v1/repositories/mig/batch`, { method: 'POST', headers: { authorization: basic('writer', 'writer-password-1'), 'content-type': 'application/x-tar' }, body: await buffer(asWriter) });
  const r = (await refused.json()) as { results: { error?: { status: number } }[] };
  assert.equal(r.results[0].error?.status, 403);
});
