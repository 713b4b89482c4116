// Hosted files driven by curl and the typed client, against a real server on 127.0.0.1:
// uploads with `curl -T`, downloads, Range, HEAD, ETag/304, listings, deletes, tokens,
// private repositories, the overwrite policy, and paths that must be refused.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WharfApiError, WharfClient } from '../../src/client/client.ts';
import type { Repository } from '../../src/core/model.ts';
import { run } from '../helpers/clients.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

const ADMIN = `admin:${ADMIN_PASSWORD}`;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** curl with no configuration of its own; `-sS` so errors show, `-w` appends the status. */
async function curl(args: string[]): Promise<{ code: number; status: number; body: string; stderr: string }> {
  const r = await run('curl', ['-q', '-sS', '--path-as-is', '-w', '\n%{http_code}', ...args]);
  const cut = r.stdout.lastIndexOf('\n');
  return { code: r.code, status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut), stderr: r.stderr };
}

describe('hosted files with curl and the typed client', () => {
  let server: TestServer;
  let work: string;
  let repo: Repository;
  let tarball: string;
  let tarBytes: Buffer;

  const api = async (method: string, path: string, body?: unknown, auth = server.adminAuth) => {
    const res = await fetch(`${server.url}/-/api/v1${path}`, {
      method, headers: { authorization: auth, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, json: await res.json().catch(() => null) as Record<string, unknown> | null };
  };
  const stats = (r: Repository) => server.wharf.store.repoStats(r.id);

  before(async () => {
    server = await startServer();
    work = await mkdtemp(join(tmpdir(), 'wharf-files-'));
    tarBytes = randomBytes(200_000);
    tarball = join(work, 'tool-1.0.tar.gz');
    await writeFile(tarball, tarBytes);
    const created = await api('POST', '/repositories', { name: 'files', format: 'files' });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    repo = server.wharf.requireRepo('files');
  });
  after(async () => server.close());

  it('curl -T uploads into a directory and curl downloads the same bytes', async () => {
    const up = await curl(['-u', ADMIN, '-T', tarball, `${server.url}/files/releases/v1/`]);
    assert.equal(up.status, 201, up.body + up.stderr);
    assert.match(up.body, /created: \/files\/releases\/v1\/tool-1\.0\.tar\.gz/);
    const out = join(work, 'got.tar.gz');
    const down = await run('curl', ['-q', '-sSf', '-o', out, `${server.url}/files/releases/v1/tool-1.0.tar.gz`]);
    assert.equal(down.code, 0, down.stderr);
    assert.ok((await readFile(out)).equals(tarBytes));
    // A build system's base URL with a trailing slash plus "/name" still finds the file.
    const doubled = await curl(['-o', '/dev/null', `${server.url}/files/releases/v1//tool-1.0.tar.gz`]);
    assert.equal(doubled.status, 200);
  });

  it('an identical re-upload is answered 200 and stores nothing new', async () => {
    const before = (await stats(repo)).files;
    const again = await curl(['-u', ADMIN, '-T', tarball, `${server.url}/files/releases/v1/`]);
    assert.equal(again.status, 200, again.body);
    assert.match(again.body, /unchanged/);
    assert.equal((await stats(repo)).files, before);
  });

  it('HEAD gives ETag and Content-Length, If-None-Match gives 304, Range gives 206', async () => {
    const url = `${server.url}/files/releases/v1/tool-1.0.tar.gz`;
    const head = await run('curl', ['-q', '-sSI', url]);
    assert.match(head.stdout, /^HTTP\/1\.1 200/);
    assert.match(head.stdout, new RegExp(`etag: "${sha256(tarBytes)}"`, 'i'));
    assert.match(head.stdout, new RegExp(`content-length: ${tarBytes.length}\\r`, 'i'));
    assert.match(head.stdout, /accept-ranges: bytes/i);
    const notModified = await curl(['-o', '/dev/null', '-H', `If-None-Match: "${sha256(tarBytes)}"`, url]);
    assert.equal(notModified.status, 304);
    const out = join(work, 'range.bin');
    const range = await curl(['-r', '0-9', '-o', out, url]);
    assert.equal(range.status, 206);
    assert.ok((await readFile(out)).equals(tarBytes.subarray(0, 10)));
    const tail = await curl(['-r', '199990-', '-o', out, url]);
    assert.equal(tail.status, 206);
    assert.ok((await readFile(out)).equals(tarBytes.subarray(199_990)));
  });

  it('lists directories as HTML and JSON, and redirects a directory named without its slash', async () => {
    await writeFile(join(work, 'notes v1 é.txt'), 'notes\n');
    const up = await curl(['-u', ADMIN, '-T', join(work, 'notes v1 é.txt'), `${server.url}/files/releases/`]);
    assert.equal(up.status, 201, up.body);

    const root = await curl([`${server.url}/files/`]);
    assert.equal(root.status, 200);
    assert.match(root.body, /<a href="releases\/">releases\/<\/a>/);

    const html = await curl([`${server.url}/files/releases/`]);
    assert.equal(html.status, 200);
    assert.match(html.body, /Index of \/files\/releases\//);
    assert.match(html.body, /<a href="\.\.\/">/);
    assert.match(html.body, /<a href="v1\/">v1\/<\/a>/);
    assert.match(html.body, /<a href="notes%20v1%20%C3%A9\.txt">notes v1 é\.txt<\/a>/);

    const viaAccept = await curl(['-H', 'Accept: application/json', `${server.url}/files/releases/v1/`]);
    const doc = JSON.parse(viaAccept.body) as { path: string; entries: { type: string; name: string; size?: number; sha256?: string }[] };
    assert.equal(doc.path, '/releases/v1/');
    assert.deepEqual(doc.entries.map((e) => [e.type, e.name, e.size, e.sha256]), [['file', 'tool-1.0.tar.gz', tarBytes.length, sha256(tarBytes)]]);
    const viaQuery = JSON.parse((await curl([`${server.url}/files/releases/?format=json`])).body) as typeof doc;
    assert.deepEqual(viaQuery.entries.map((e) => [e.type, e.name]), [['dir', 'v1'], ['file', 'notes v1 é.txt']]);

    // Every link of a listing resolves: what a scraper of the base URL would follow.
    for (const href of [...html.body.matchAll(/href="([^"]+)"/g)].map((m) => m[1])) {
      const r = await curl(['-o', '/dev/null', new URL(href, `${server.url}/files/releases/`).href]);
      assert.equal(r.status, 200, href);
    }

    const redirect = await run('curl', ['-q', '-sS', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', `${server.url}/files/releases/v1?format=json`]);
    assert.match(redirect.stdout, /^301 http:\/\/127\.0\.0\.1:\d+\/files\/releases\/v1\/\?format=json$/);
    const followed = await curl(['-L', `${server.url}/files/releases/v1`]);
    assert.equal(followed.status, 200);
    assert.match(followed.body, /tool-1\.0\.tar\.gz/);

    const etag = /etag: ("[^"]+")/i.exec((await run('curl', ['-q', '-sSI', `${server.url}/files/releases/`])).stdout)![1];
    assert.equal((await curl(['-o', '/dev/null', '-H', `If-None-Match: ${etag}`, `${server.url}/files/releases/`])).status, 304);
    assert.equal((await curl(['-o', '/dev/null', `${server.url}/files/nothing/`])).status, 404);
    assert.equal((await curl(['-o', '/dev/null', `${server.url}/files/releases/none.tgz`])).status, 404);
  });

  it('wget mirrors a directory from its base URL, following the listing', async (t) => {
    if ((await run('sh', ['-c', 'command -v wget'])).code !== 0) return t.skip('wget is not installed');
    const out = await mkdtemp(join(tmpdir(), 'wharf-wget-'));
    const r = await run('wget', ['-q', '-r', '-np', '-nH', '--cut-dirs=2', '-e', 'robots=off', `${server.url}/files/releases/`], { cwd: out });
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await readFile(join(out, 'v1', 'tool-1.0.tar.gz'))).equals(tarBytes));
    assert.equal(await readFile(join(out, 'notes v1 é.txt'), 'utf8'), 'notes\n');
  });

  it('refuses a file where a directory is, and a directory below a file, with 409', async () => {
    const asFile = await curl(['-u', ADMIN, '-T', tarball, `${server.url}/files/releases/v1`]);
    assert.equal(asFile.status, 409, asFile.body);
    const belowFile = await curl(['-u', ADMIN, '-T', tarball, `${server.url}/files/releases/v1/tool-1.0.tar.gz/`]);
    assert.equal(belowFile.status, 409, belowFile.body);
    assert.equal((await stats(repo)).files, 2);
  });

  it('different bytes under a published path are refused, then accepted once overwrite is enabled', async () => {
    const other = join(work, 'other', 'tool-1.0.tar.gz');
    await import('node:fs/promises').then((fs) => fs.mkdir(join(work, 'other')));
    await writeFile(other, 'different bytes');
    const url = `${server.url}/files/releases/v1/`;
    const refused = await curl(['-u', ADMIN, '-T', other, url]);
    assert.equal(refused.status, 409, refused.body);
    assert.equal((await curl(['-o', join(work, 'still.bin'), `${url}tool-1.0.tar.gz`])).status, 200);
    assert.ok((await readFile(join(work, 'still.bin'))).equals(tarBytes), 'the refused upload changed nothing');

    assert.equal((await api('PATCH', '/repositories/files', { options: { allowOverwrite: true } })).status, 200);
    repo = server.wharf.requireRepo('files');
    const replaced = await curl(['-u', ADMIN, '-T', other, url]);
    assert.equal(replaced.status, 200, replaced.body);
    assert.match(replaced.body, /replaced/);
    const got = await curl([`${url}tool-1.0.tar.gz`]);
    assert.equal(got.body, 'different bytes');
    const head = (await run('curl', ['-q', '-sSI', `${url}tool-1.0.tar.gz`])).stdout;
    assert.match(head, /cache-control: public, max-age=0, must-revalidate/i, 'overwritable files are not immutable');
    const listing = JSON.parse((await curl([`${url}?format=json`])).body) as { entries: { size: number }[] };
    assert.equal(listing.entries[0].size, 'different bytes'.length, 'the listing shows the new size');
    assert.equal((await api('PATCH', '/repositories/files', { options: { allowOverwrite: false } })).status, 200);
    repo = server.wharf.requireRepo('files');
  });

  it('DELETE removes a file and the directories it leaves empty from the listings', async () => {
    await writeFile(join(work, 'x.bin'), 'x');
    assert.equal((await curl(['-u', ADMIN, '-T', join(work, 'x.bin'), `${server.url}/files/tmp/a/b/`])).status, 201);
    const rootBefore = JSON.parse((await curl([`${server.url}/files/?format=json`])).body) as { entries: { name: string }[] };
    assert.ok(rootBefore.entries.some((e) => e.name === 'tmp'));
    assert.equal((await curl(['-X', 'DELETE', '-u', ADMIN, `${server.url}/files/tmp/a`])).status, 409, 'a directory is not deleted by DELETE');
    assert.equal((await curl(['-X', 'DELETE', `${server.url}/files/tmp/a/b/x.bin`])).status, 401);
    const del = await curl(['-X', 'DELETE', '-u', ADMIN, `${server.url}/files/tmp/a/b/x.bin`]);
    assert.equal(del.status, 204, del.body);
    assert.equal((await curl(['-o', '/dev/null', `${server.url}/files/tmp/a/b/x.bin`])).status, 404);
    assert.equal((await curl(['-o', '/dev/null', `${server.url}/files/tmp/a/b/`])).status, 404);
    assert.equal((await curl(['-o', '/dev/null', `${server.url}/files/tmp/`])).status, 404);
    const rootAfter = JSON.parse((await curl([`${server.url}/files/?format=json`])).body) as { entries: { name: string }[] };
    assert.deepEqual(rootAfter.entries.map((e) => e.name), ['releases']);
    assert.equal((await curl(['-X', 'DELETE', '-u', ADMIN, `${server.url}/files/tmp/a/b/x.bin`])).status, 404);
  });

  it('anonymous PUT is 401, a read-only token is 403, a write token uploads', async () => {
    const anon = await curl(['-T', tarball, `${server.url}/files/anon/`]);
    assert.equal(anon.status, 401);
    const readTok = await api('POST', '/tokens', { name: 'ci-read', repos: ['files'], permission: 'read' });
    assert.equal(readTok.status, 201);
    const denied = await curl(['-H', `Authorization: Bearer ${readTok.json!.token}`, '-T', tarball, `${server.url}/files/ci/`]);
    assert.equal(denied.status, 403, denied.body);
    const writeTok = await api('POST', '/tokens', { name: 'ci-write', repos: ['files'], permission: 'write' });
    const ok = await curl(['-H', `Authorization: Bearer ${writeTok.json!.token}`, '-T', tarball, `${server.url}/files/ci/`]);
    assert.equal(ok.status, 201, ok.body);
    // The form pip and twine use: any user name with the token as password.
    const basicTok = await curl(['-u', `__token__:${writeTok.json!.token}`, '-X', 'DELETE', `${server.url}/files/ci/tool-1.0.tar.gz`]);
    assert.equal(basicTok.status, 204);
  });

  it('a private repository needs credentials to read and to list', async () => {
    assert.equal((await api('POST', '/repositories', { name: 'secret', format: 'files', public: false })).status, 201);
    const secret = server.wharf.requireRepo('secret');
    assert.equal((await curl(['-u', ADMIN, '-T', tarball, `${server.url}/secret/`])).status, 201);
    assert.equal((await curl(['-o', '/dev/null', `${server.url}/secret/tool-1.0.tar.gz`])).status, 401);
    assert.equal((await curl(['-o', '/dev/null', `${server.url}/secret/`])).status, 401);
    const got = await curl(['-u', ADMIN, '-o', join(work, 'secret.bin'), `${server.url}/secret/tool-1.0.tar.gz`]);
    assert.equal(got.status, 200);
    assert.ok((await readFile(join(work, 'secret.bin'))).equals(tarBytes));
    const head = (await run('curl', ['-q', '-sSI', '-u', ADMIN, `${server.url}/secret/tool-1.0.tar.gz`])).stdout;
    assert.match(head, /cache-control: private/i);
    assert.equal((await stats(secret)).files, 1);
  });

  it('refuses `..`, encoded slashes, control characters and absurd names with 4xx, storing nothing', async () => {
    assert.equal((await api('POST', '/repositories', { name: 'clean', format: 'files' })).status, 201);
    const clean = server.wharf.requireRepo('clean');
    const bad = [
      '../x.tgz', 'a/../../x.tgz', '..', '%2e%2e/x.tgz', '%2E%2E/x.tgz', '.%2e/x.tgz', '%2e./x.tgz', 'a/%2e%2e/x.tgz',
      'a%2f..%2fx.tgz', '..%2fx.tgz', 'a%2Fb.tgz', '..%5cx.tgz', '%2e%2e%5cx.tgz', './x.tgz', '%2e/x.tgz',
      'a//x.tgz', 'a%00b.tgz', 'a%0d%0ab.tgz', 'x%zz.tgz', '%c0%ae%c0%ae/x.tgz', `${'n'.repeat(256)}.tgz`,
      Array.from({ length: 6 }, () => 'd'.repeat(200)).join('/') + '/x.tgz',
    ];
    for (const p of bad) {
      const r = await curl(['-u', ADMIN, '-T', tarball, `${server.url}/clean/${p}`]);
      assert.ok(r.status >= 400 && r.status < 500, `${p}: ${r.status} ${r.body}`);
    }
    // A PUT to a directory URL (curl -T would add the name; other clients may not).
    for (const url of [`${server.url}/clean/dir/`, `${server.url}/clean/`]) {
      const r = await curl(['-u', ADMIN, '-X', 'PUT', '--data-binary', `@${tarball}`, url]);
      assert.equal(r.status, 400, `${url}: ${r.body}`);
    }
    // The same names through the API upload that `wharf upload` uses.
    const client = new WharfClient({ url: server.url, user: 'admin', password: ADMIN_PASSWORD });
    const badFields: Record<string, string>[] = [{ dir: '../up' }, { dir: 'a/../..' }, { path: 'a/../../x.tgz' }, { dir: 'a//b' }, { path: '..' }, { dir: 'x\u0001y' }];
    for (const fields of badFields) {
      await assert.rejects(client.upload('clean', tarball, { fields }), (e: unknown) => e instanceof WharfApiError && e.status === 400, JSON.stringify(fields));
    }
    await assert.rejects(client.upload('clean', tarball, { filename: '..' }), (e: unknown) => e instanceof WharfApiError && e.status === 400);
    await assert.rejects(client.upload('clean', tarball, { filename: 'a/b.tgz' }), (e: unknown) => e instanceof WharfApiError && e.status === 400);
    assert.equal((await stats(clean)).files, 0);
    const root = JSON.parse((await curl([`${server.url}/clean/?format=json`])).body) as { entries: unknown[] };
    assert.deepEqual(root.entries, []);
    // Reads of such paths are refused too, never resolved outside the repository.
    assert.equal((await curl(['-o', '/dev/null', `${server.url}/clean/%2e%2e/files/releases/v1/tool-1.0.tar.gz`])).status, 400);
  });

  it('wharf upload (the typed client) places files with a dir field, and download fetches them', async () => {
    const client = new WharfClient({ url: server.url, user: 'admin', password: ADMIN_PASSWORD });
    const res = await client.upload('files', tarball, { fields: { dir: 'from-cli/v2' } });
    assert.equal(res.status, 'created');
    assert.deepEqual(res.files.map((f) => f.path), ['from-cli/v2/tool-1.0.tar.gz']);
    const again = await client.upload('files', tarball, { fields: { dir: '/from-cli/v2/' } });
    assert.equal(again.status, 'exists');
    const renamed = await client.upload('files', tarball, { fields: { path: 'from-cli/latest.tar.gz' } });
    assert.deepEqual(renamed.files.map((f) => f.path), ['from-cli/latest.tar.gz']);
    const listing = JSON.parse((await curl([`${server.url}/files/from-cli/?format=json`])).body) as { entries: { type: string; name: string }[] };
    assert.deepEqual(listing.entries.map((e) => [e.type, e.name]), [['dir', 'v2'], ['file', 'latest.tar.gz']]);

    const dest = join(work, 'downloaded.tar.gz');
    const n = await client.download('files', 'from-cli/v2/tool-1.0.tar.gz', dest);
    assert.equal(n, tarBytes.length);
    assert.ok((await readFile(dest)).equals(tarBytes));
    await assert.rejects(client.download('files', 'from-cli/v2/missing.tgz', dest), (e: unknown) => e instanceof WharfApiError && e.status === 404);
  });

  it('the wharf CLI uploads with --dir and downloads', async () => {
    const node = process.execPath;
    const env: NodeJS.ProcessEnv = { ...process.env, WHARF_URL: server.url, WHARF_USER: 'admin', WHARF_PASSWORD: ADMIN_PASSWORD };
    delete env.WHARF_TOKEN;
    const cli = join(import.meta.dirname, '../../src/cli/main.ts');
    const up = await run(node, [cli, 'upload', 'files', tarball, '--dir', 'cli'], { env });
    assert.equal(up.code, 0, up.stdout + up.stderr);
    assert.match(up.stdout, /uploaded: cli\/tool-1\.0\.tar\.gz/);
    const dest = join(work, 'cli-download.tar.gz');
    const down = await run(node, [cli, 'download', 'files', 'cli/tool-1.0.tar.gz', '-o', dest], { env });
    assert.equal(down.code, 0, down.stdout + down.stderr);
    assert.ok((await readFile(dest)).equals(tarBytes));
  });

  it('listings can be turned off while files stay downloadable', async () => {
    assert.equal((await api('PATCH', '/repositories/files', { options: { listings: false } })).status, 200);
    assert.equal((await curl(['-o', '/dev/null', `${server.url}/files/releases/`])).status, 403);
    assert.equal((await curl(['-o', '/dev/null', `${server.url}/files/releases/v1`])).status, 404, 'no redirect reveals a directory');
    assert.equal((await curl(['-o', '/dev/null', `${server.url}/files/from-cli/v2/tool-1.0.tar.gz`])).status, 200);
    assert.equal((await api('PATCH', '/repositories/files', { options: { listings: 'no' } })).status, 400);
    assert.equal((await api('PATCH', '/repositories/files', { options: { listings: true } })).status, 200);
    assert.equal((await curl(['-o', '/dev/null', `${server.url}/files/releases/`])).status, 200);
  });

  it('serves uploaded HTML as inert content, never as script in the server origin', async () => {
    await writeFile(join(work, 'page.html'), '<script>alert(1)</script>');
    assert.equal((await curl(['-u', ADMIN, '-T', join(work, 'page.html'), `${server.url}/files/`])).status, 201);
    const head = (await run('curl', ['-q', '-sSI', `${server.url}/files/page.html`])).stdout;
    assert.match(head, /content-security-policy: sandbox/i);
    assert.match(head, /x-content-type-options: nosniff/i);
  });
});

describe('upload size limit', () => {
  it('refuses a PUT larger than maxUploadBytes with 413 and stores nothing', async () => {
    const server = await startServer({ maxUploadBytes: 1024 });
    try {
      await fetch(`${server.url}/-/api/v1/repositories`, { method: 'POST', headers: { authorization: server.adminAuth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'small', format: 'files' }) });
      const big = await fetch(`${server.url}/small/big.bin`, { method: 'PUT', body: Buffer.alloc(4096), headers: { authorization: server.adminAuth } });
      assert.equal(big.status, 413);
      const ok = await fetch(`${server.url}/small/ok.bin`, { method: 'PUT', body: Buffer.alloc(512), headers: { authorization: server.adminAuth } });
      assert.equal(ok.status, 201);
      assert.equal((await server.wharf.store.repoStats(server.wharf.requireRepo('small').id)).files, 1);

    } finally {
      await server.close();
    }
  });
});
