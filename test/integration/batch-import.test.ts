// `wharf import` through the batch API (issue 12, item 1) against a real server: .debs, Arch
// packages and wheels, each directory with an invalid file in the middle (reported, the others
// published), in several chunks per batch (a small chunk size), several versions of one
// package in a chunk; then apt-get, pacman and pip install from the result. Also the batch API
// itself: a refused entry beside accepted ones, a bad body, a sha256 mismatch, permissions.
// WHARF_TEST_DATABASE=postgres runs it on PostgreSQL.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import tar from 'tar-stream';
import { buffer } from 'node:stream/consumers';
import { BATCH_LIMITS } from '../../src/core/batch-ingest.ts';
import { aptEnv, buildDeb, control, problems } from '../helpers/apt.ts';
import { wharfCli } from '../helpers/child-server.ts';
import { pip } from '../helpers/clients.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';
import { keyring, pacman, tinyPackage, trustKey } from './arch-helpers.ts';

const isRoot = process.getuid?.() === 0;

describe('wharf import through the batch API', () => {
  let server: TestServer;
  let dir: string;
  const chunkFiles = BATCH_LIMITS.chunkFiles;

  const importDir = (repo: string, from: string, ...extra: string[]) =>
    wharfCli(['import', repo, from, ...extra], { WHARF_URL: server.url, WHARF_USER: 'admin', WHARF_PASSWORD: ADMIN_PASSWORD });

  before(async () => {
    // Three files per transaction: every batch here spans several chunks.
    BATCH_LIMITS.chunkFiles = 3;
    server = await startServer();
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-batch-'));
    await server.wharf.createRepo({ name: 'deb', format: 'apt' });
    await server.wharf.createRepo({ name: 'arch', format: 'arch' });
    await server.wharf.createRepo({ name: 'py', format: 'pypi' });
  });
  after(async () => {
    BATCH_LIMITS.chunkFiles = chunkFiles;
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const fetchKey = async (repo: string) => {
    const file = path.join(dir, `${repo}.asc`);
    await writeFile(file, await (await fetch(`${server.url}/${repo}/key.asc`)).text());
    return file;
  };

  it('imports .debs (a bad one in the middle refused) and apt-get installs from the result', async () => {
    const src = path.join(dir, 'debs');
    const build = path.join(dir, 'debs-build');
    await mkdir(src, { recursive: true });
    await mkdir(build, { recursive: true });
    for (let i = 0; i < 8; i++) {
      const deb = await buildDeb(build, `batch-pkg${i}`, control(`batch-pkg${i}`, '1.0'));
      await writeFile(path.join(src, path.basename(deb)), await readFile(deb));
    }
    await writeFile(path.join(src, 'batch-pkg4-broken.deb'), 'not an ar archive');
    const r = await importDir('deb', src, '--field', 'suite=stable', '--field', 'component=main');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /imported 8 new, 0 already present, 1 refused, of 9 files/);
    assert.match(r.out, /skipped .*batch-pkg4-broken\.deb: /);
    const env = await aptEnv(path.join(dir, 'apt'), { url: `${server.url}/deb`, suite: 'stable', component: 'main', keyFile: await fetchKey('deb') });
    const update = await env.apt('apt-get', 'update');
    assert.deepEqual(problems(update), [], update.stdout + update.stderr);
    const install = await env.apt('apt-get', 'install', '-y', '--download-only', 'batch-pkg0', 'batch-pkg7');
    assert.equal(install.code, 0, install.stdout + install.stderr);
    // Again: every file already there, nothing refused.
    const again = await importDir('deb', src, '--field', 'suite=stable', '--field', 'component=main');
    assert.match(again.out, /imported 0 new, 8 already present, 1 refused, of 9 files/);
  });

  it('imports Arch packages, several versions of one in a chunk; pacman installs the newest', { skip: isRoot ? false : 'pacman needs root' }, async () => {
    const src = path.join(dir, 'arch-src');
    await mkdir(src, { recursive: true });
    // Sent in name order: 1.10 before 1.9, so the newest by vercmp is not the last recorded.
    for (const v of ['1.0-1', '1.10-1', '1.9-1']) await tinyPackage(src, { name: 'batchy', version: v, desc: `batchy ${v}` });
    for (let i = 0; i < 5; i++) await tinyPackage(src, { name: `batchlib${i}`, version: '2.0-1' });
    await writeFile(path.join(src, 'batchlib2-bad-1-x86_64.pkg.tar.zst'), 'not zstd');
    const r = await importDir('arch', src);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /imported 8 new, 0 already present, 1 refused, of 9 files/);
    assert.match(r.out, /skipped .*batchlib2-bad-1-x86_64\.pkg\.tar\.zst/);
    // Each version judged newest or not after the one before it was recorded, as single uploads are.
    const listed = await (await fetch(`${server.url}/-/api/v1/repositories/arch/packages`, { headers: { authorization: server.adminAuth } })).json() as { packages: { name: string; description?: string }[] };
    assert.equal(listed.packages.find((x) => x.name === 'batchy')?.description, 'batchy 1.10-1');
    const gpgdir = await keyring(path.join(dir, 'gpg'));
    const { keys } = await (await fetch(`${server.url}/-/api/v1/repositories/arch/keys`, { headers: { authorization: server.adminAuth } })).json() as { keys: { fingerprint: string }[] };
    await trustKey(gpgdir, await fetchKey('arch'), keys[0].fingerprint);
    const p = await pacman(path.join(dir, 'pacman'), gpgdir, 'arch', `${server.url}/arch/$arch`);
    await p.ok('-Sy');
    assert.match(await p.ok('-Sl', 'arch'), /^arch batchy 1\.10-1$/m);
    await p.ok('-S', 'batchy', 'batchlib4');
    assert.equal(await readFile(path.join(p.dir, 'root/usr/bin/batchy'), 'utf8'), '#!/bin/sh\necho batchy 1.10-1\n');
  });

  it('imports wheels with two batches at once and pip installs from the result', async () => {
    const src = path.join(dir, 'wheels');
    await mkdir(src, { recursive: true });
    for (let i = 0; i < 10; i++) {
      const s = { name: `batchwheel${i % 3}`, version: `1.${i}` };
      await writeFile(path.join(src, wheelFilename(s)), buildWheel(s));
    }
    await writeFile(path.join(src, 'batchwheel1-9.9-py3-none-any.whl'), 'not a zip');
    const r = await importDir('py', src, '--jobs', '2');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /imported 10 new, 0 already present, 1 refused, of 11 files/);
    const target = path.join(dir, 'pip-target');
    const inst = await pip(['install', '--index-url', `${server.url}/py/simple/`, '--target', target, 'batchwheel0', 'batchwheel2==1.5']);
    assert.equal(inst.code, 0, inst.stdout + inst.stderr);
    assert.match(inst.stdout, /Successfully installed batchwheel0-1\.9 batchwheel2-1\.5/);
  });

  const batchOf = async (entries: { name: string; data: Buffer; query?: string }[]) => {
    const pack = tar.pack();
    const out = buffer(pack as unknown as AsyncIterable<Buffer>);
    for (const e of entries) pack.entry({ name: e.name, ...(e.query ? { pax: { 'WHARF.query': e.query } } : {}) }, e.data);
    pack.finalize();
    return out;
  };
  const post = (repo: string, body: Buffer, auth: string | null = server.adminAuth) => fetch(`${server.url}/-/api/v1/repositories/${repo}/batch`, {
    method: 'POST', headers: { 'content-type': 'application/x-tar', ...(auth ? { authorization: auth } : {}) }, body,
  });

  it('answers one result per entry: a sha256 mismatch and a conflict refused beside accepted files', async () => {
    const a = buildWheel({ name: 'apiwheel', version: '1.0' });
    const b = buildWheel({ name: 'apiwheel', version: '1.1' });
    const body = await batchOf([
      { name: wheelFilename({ name: 'apiwheel', version: '1.0' }), data: a },
      { name: wheelFilename({ name: 'apiwheel', version: '1.1' }), data: b, query: `sha256=${'0'.repeat(64)}` },
      // The same name as the first, other bytes: a conflict, decided in the transaction.
      { name: wheelFilename({ name: 'apiwheel', version: '1.0' }), data: buildWheel({ name: 'apiwheel', version: '1.0', summary: 'other' }) },
    ]);
    const res = await post('py', body);
    assert.equal(res.status, 200);
    const j = await res.json() as { results: { filename: string; status?: string; error?: { code: string; message: string } }[] };
    assert.equal(j.results[0].status, 'created');
    assert.equal(j.results[1].error?.code, 'BAD_REQUEST');
    assert.match(j.results[1].error!.message, /sha256 mismatch/);
    assert.equal(j.results[2].error?.code, 'CONFLICT');
    // Accepted means published: the page lists it as the answer arrives.
    assert.match(await (await fetch(`${server.url}/py/simple/apiwheel/`)).text(), /apiwheel-1\.0-py3-none-any\.whl/);
    // Audited as a single upload is, by the batch's sender; the refused files are not.
    const audit = await (await fetch(`${server.url}/-/api/v1/audit?repo=py&action=upload`, { headers: { authorization: server.adminAuth } })).json() as { entries: { actor: string; target: string | null }[] };
    assert.deepEqual(audit.entries.filter((e) => e.target?.includes('apiwheel')).map((e) => [e.actor, e.target]), [['admin', 'packages/apiwheel/apiwheel-1.0-py3-none-any.whl']]);
  });

  it('refuses a body that is not a tar stream, and uploads without write permission', async () => {
    const bad = await post('py', Buffer.alloc(2048, 'x'));
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /not a well-formed tar stream/);
    const anon = await post('py', await batchOf([{ name: wheelFilename({ name: 'anon', version: '1.0' }), data: buildWheel({ name: 'anon', version: '1.0' }) }]), null);
    assert.equal(anon.status, 401);
    assert.equal((await fetch(`${server.url}/py/simple/anon/`)).status, 404);
  });
});
