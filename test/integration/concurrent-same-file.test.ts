// Many concurrent uploads of one new file name (issue 8, defect 5: they answered 500 with
// "UNIQUE constraint failed: files.repo_id, files.path"). Identical bytes answer as an
// identical re-upload does; different bytes answer 409 to all but one; never a 5xx.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readFile } from 'node:fs/promises';
import { buildDeb, control } from '../helpers/apt.ts';
import { buildWheel } from '../helpers/python-dists.ts';
import { readRepoDb } from '../../src/formats/arch/db-archive.ts';
import { tinyPackage } from './arch-helpers.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const N = Number(process.env.WHARF_CONCURRENT_SAME_FILE ?? 40);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('concurrent uploads of one new file name', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer();
    const res = await fetch(`${server.url}/-/api/v1/repositories`, {
      method: 'POST', headers: { authorization: server.adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'files', format: 'files' }),
    });
    assert.equal(res.status, 201);
    await server.wharf.createRepo({ name: 'deb', format: 'apt' });
    await server.wharf.createRepo({ name: 'arch', format: 'arch' });
  });
  after(async () => {
    await server?.close();
  });

  const twine = async (data: Buffer, filename: string) => {
    const form = new FormData();
    form.set(':action', 'file_upload');
    form.set('protocol_version', '1');
    form.set('sha256_digest', sha256(data));
    form.set('content', new Blob([data]), filename);
    const res = await fetch(`${server.url}/pypi/`, { method: 'POST', body: form, headers: { authorization: server.adminAuth } });
    return { status: res.status, text: await res.text(), sha: sha256(data) };
  };
  const put = async (data: Buffer, path: string) => {
    const res = await fetch(`${server.url}/files/${path}`, { method: 'PUT', body: data, headers: { authorization: server.adminAuth } });
    return { status: res.status, text: await res.text(), sha: sha256(data) };
  };
  const stored = (repo: string, path: string) => server.wharf.store.getFileByPath(server.wharf.requireRepo(repo).id, path);
  const count = (answers: { status: number }[]) => {
    const by = new Map<number, number>();
    for (const a of answers) by.set(a.status, (by.get(a.status) ?? 0) + 1);
    return Object.fromEntries([...by].sort());
  };
  const noTempFiles = async () => assert.deepEqual(await readdir(join(server.data, 'blobs', 'tmp')), []);

  it('PyPI (twine upload API): identical bytes all answer 200, one file stored and listed', async () => {
    const wheel = buildWheel({ name: 'same', version: '1.0' });
    const answers = await Promise.all(Array.from({ length: N }, () => twine(wheel, 'same-1.0-py3-none-any.whl')));
    assert.deepEqual(count(answers), { 200: N }, answers.find((a) => a.status !== 200)?.text);
    assert.equal((await stored('pypi', 'packages/same/same-1.0-py3-none-any.whl'))?.sha256, sha256(wheel));
    const page = await (await fetch(`${server.url}/pypi/simple/same/`)).text();
    assert.match(page, new RegExp(`same-1\\.0-py3-none-any\\.whl#sha256=${sha256(wheel)}`));
    await noTempFiles();
  });

  it('PyPI: different bytes under one name: one 200, the rest 409, the winner stored', async () => {
    const wheels = Array.from({ length: N }, (_, i) => buildWheel({ name: 'differ', version: '1.0', extraFiles: { 'differ/n.txt': `${i}\n` } }));
    const answers = await Promise.all(wheels.map((w) => twine(w, 'differ-1.0-py3-none-any.whl')));
    assert.deepEqual(count(answers), { 200: 1, 409: N - 1 }, answers.find((a) => a.status >= 500)?.text);
    const winner = answers.find((a) => a.status === 200)!;
    assert.equal((await stored('pypi', 'packages/differ/differ-1.0-py3-none-any.whl'))?.sha256, winner.sha);
    await noTempFiles();
  });

  it('files (PUT): identical bytes: one 201, the rest 200 "unchanged"', async () => {
    const body = Buffer.from('the same bytes\n');
    const answers = await Promise.all(Array.from({ length: N }, () => put(body, 'dir/same.txt')));
    assert.deepEqual(count(answers), { 200: N - 1, 201: 1 }, answers.find((a) => a.status >= 300)?.text);
    for (const a of answers.filter((x) => x.status === 200)) assert.match(a.text, /^unchanged: /);
    assert.equal((await stored('files', 'dir/same.txt'))?.sha256, sha256(body));
    await noTempFiles();
  });

  it('files (PUT): different bytes under one path: one 201, the rest 409', async () => {
    const bodies = Array.from({ length: N }, (_, i) => Buffer.from(`body ${i}\n`));
    const answers = await Promise.all(bodies.map((b) => put(b, 'dir/differ.txt')));
    assert.deepEqual(count(answers), { 201: 1, 409: N - 1 }, answers.find((a) => a.status >= 500)?.text);
    const winner = answers.find((a) => a.status === 201)!;
    assert.equal((await stored('files', 'dir/differ.txt'))?.sha256, winner.sha);
    const got = await fetch(`${server.url}/files/dir/differ.txt`);
    assert.equal(sha256(Buffer.from(await got.arrayBuffer())), winner.sha);
    await noTempFiles();
  });
  it('APT: one new .deb uploaded into several suites at once is in every suite\'s Packages', async () => {
    const deb = await readFile(await buildDeb(server.data, 'multi', control('multi', '1.0')));
    const suites = Array.from({ length: 8 }, (_, i) => `s${i}`);
    const answers = await Promise.all(suites.map(async (suite) => {
      const res = await fetch(`${server.url}/deb/upload/${suite}/main/multi_1.0_amd64.deb`, { method: 'PUT', body: deb, headers: { authorization: server.adminAuth } });
      return { status: res.status, text: await res.text() };
    }));
    assert.deepEqual(count(answers), { 200: suites.length - 1, 201: 1 }, answers.find((a) => a.status >= 300)?.text);
    for (const suite of suites) {
      const res = await fetch(`${server.url}/deb/dists/${suite}/main/binary-amd64/Packages`);
      assert.equal(res.status, 200, `suite ${suite}`);
      assert.match(await res.text(), /^Package: multi$/m, `suite ${suite} lists the .deb`);
    }
    await noTempFiles();
  });
  it('Arch: identical packages (signed by the server) answer 201 once and 200 after, listed once', async () => {
    const pkg = await readFile(await tinyPackage(server.data, { name: 'twice', version: '1.0-1' }));
    const answers = await Promise.all(Array.from({ length: 8 }, async () => {
      const res = await fetch(`${server.url}/arch/upload/twice-1.0-1-x86_64.pkg.tar.zst`, { method: 'PUT', body: pkg, headers: { authorization: server.adminAuth } });
      return { status: res.status, text: await res.text() };
    }));
    assert.deepEqual(count(answers), { 200: 7, 201: 1 }, answers.find((a) => a.status >= 300)?.text);
    const sig = await fetch(`${server.url}/arch/x86_64/twice-1.0-1-x86_64.pkg.tar.zst.sig`);
    assert.equal(sig.status, 200);
    const db = await readRepoDb(new Uint8Array(await (await fetch(`${server.url}/arch/x86_64/arch.db`)).arrayBuffer()));
    assert.deepEqual([...db.keys()], ['twice-1.0-1']);
    await noTempFiles();
  });
});
