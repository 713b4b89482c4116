// Bad uploads to an Arch repository answer 4xx and store nothing (no rows, no blobs, no
// temp files); uploaded signatures are checked when the repository requires trusted keys.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WharfApiError, WharfClient } from '../../src/client/client.ts';
import { detachSign, generateSigningKey, type SigningKey } from '../../src/core/signing.ts';
import { readRepoDb } from '../../src/formats/arch/db-archive.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';
import { buildPackage, makePkginfo, removeDir, tempDir } from '../unit/arch/fixtures.ts';
import { curl, httpStatus, tinyPackage } from './arch-helpers.ts';

async function filesBelow(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  return out.sort();
}

describe('Arch uploads that must be refused', () => {
  let server: TestServer;
  let dir: string;
  let client: WharfClient;
  let packager: SigningKey;
  let stranger: SigningKey;

  const put = (repo: string, file: string, name = path.basename(file)) =>
    curl(['-u', `admin:${ADMIN_PASSWORD}`, '-T', file, `${server.url}/${repo}/upload/${encodeURIComponent(name)}`]);
  const stats = (repo: string) => server.wharf.store.repoStats(server.wharf.repo(repo)!.id);
  const dbNames = async (repo: string) => [...(await readRepoDb(new Uint8Array(await (await fetch(`${server.url}/${repo}/x86_64/${repo}.db`)).arrayBuffer()))).keys()].sort();

  /** Runs `attempt`, which must answer 4xx, and checks that nothing was stored. */
  async function refused(repo: string, attempt: () => Promise<number>, status = 400): Promise<void> {
    const before = { stats: await stats(repo), blobs: await filesBelow(path.join(server.data, 'blobs')) };
    assert.equal(await attempt(), status);
    assert.deepEqual(await stats(repo), before.stats);

    assert.deepEqual(await filesBelow(path.join(server.data, 'blobs')), before.blobs);
  }

  before(async () => {
    server = await startServer();
    dir = await tempDir('wharf-arch-bad-');
    client = new WharfClient({ url: server.url, user: 'admin', password: ADMIN_PASSWORD });
    packager = await generateSigningKey({ name: 'Packager', email: 'packager@example.org' });
    stranger = await generateSigningKey({ name: 'Stranger', email: 'stranger@example.org' });
    await client.createRepo({ name: 'plain', format: 'arch' });
    await client.createRepo({ name: 'signed', format: 'arch', options: { requireSignedUploads: true, trustedKeys: [packager.armoredPublicKey] } });
  });
  after(async () => {
    await server?.close();
    if (dir) await removeDir(dir);
  });

  it('refuses garbage bytes', async () => {
    const file = path.join(dir, 'junk-1.0-1-x86_64.pkg.tar.zst');
    await writeFile(file, Buffer.from('this is not a package at all, just some text\n'.repeat(20)));
    await refused('plain', async () => httpStatus(await put('plain', file)));
  });

  it('refuses a package without .PKGINFO', async () => {
    const file = await buildPackage(path.join(dir, 'nopkginfo-1.0-1-x86_64.pkg.tar.zst'), { files: { 'usr/bin/x': 'x' } });
    const r = await put('plain', file);
    assert.match(r.stdout, /no \.PKGINFO/);
    await refused('plain', async () => httpStatus(await put('plain', file)));
  });

  it('refuses a .PKGINFO without pkgname or without pkgver', async () => {
    const noName = await buildPackage(path.join(dir, 'a-1.0-1-x86_64.pkg.tar.zst'), { pkginfo: makePkginfo({ pkgver: '1.0-1', arch: 'x86_64' }), files: { 'usr/bin/a': 'a' } });
    const noVer = await buildPackage(path.join(dir, 'b-1.0-1-x86_64.pkg.tar.zst'), { pkginfo: makePkginfo({ pkgname: 'b', arch: 'x86_64' }), files: { 'usr/bin/b': 'b' } });
    assert.match((await put('plain', noName)).stdout, /no pkgname/);
    assert.match((await put('plain', noVer)).stdout, /no pkgver/);
    await refused('plain', async () => httpStatus(await put('plain', noName)));
    await refused('plain', async () => httpStatus(await put('plain', noVer)));
  });

  it('refuses a lying file name: another package, version, architecture or compression', async () => {
    const file = await tinyPackage(dir, { name: 'honest', version: '1.0-1' });
    for (const lie of ['other-1.0-1-x86_64.pkg.tar.zst', 'honest-2.0-1-x86_64.pkg.tar.zst', 'honest-1.0-1-any.pkg.tar.zst', 'honest-1.0-1-x86_64.pkg.tar.xz', '..%2Fhonest-1.0-1-x86_64.pkg.tar.zst']) {
      await refused('plain', async () => httpStatus(await put('plain', file, lie)));
    }
    // The same file under its own name is fine.
    assert.equal(httpStatus(await put('plain', file)), 201);
  });

  it('refuses a different package under a published file name (409) and accepts an identical re-upload', async () => {
    const first = await tinyPackage(dir, { name: 'stable', version: '1.0-1' });
    assert.equal(httpStatus(await put('plain', first)), 201);
    assert.equal(httpStatus(await put('plain', first)), 200);
    const other = await tinyPackage(path.join(dir, ''), { name: 'stable', version: '1.0-1', files: { 'usr/bin/stable': 'changed\n' } });
    await refused('plain', async () => httpStatus(await put('plain', other)), 409);
  });

  it('refuses a signature for a package that is not there, and one that is not a signature', async () => {
    const sig = path.join(dir, 'ghost-1.0-1-x86_64.pkg.tar.zst.sig');
    await writeFile(sig, await detachSign(Buffer.from('x'), [packager], { armor: false }));
    await refused('plain', async () => httpStatus(await put('plain', sig)), 404);
    const junk = path.join(dir, 'honest-1.0-1-x86_64.pkg.tar.zst.sig');
    await writeFile(junk, 'not a signature');
    await refused('plain', async () => httpStatus(await put('plain', junk)));
  });

  it('with requireSignedUploads: a signature that does not verify is refused, in a multipart POST or on its own', async () => {
    const file = await tinyPackage(dir, { name: 'trusted', version: '1.0-1' });
    const data = await readFile(file);
    const badSig = path.join(dir, 'bad', `${path.basename(file)}.sig`);
    await (await import('node:fs/promises')).mkdir(path.dirname(badSig), { recursive: true });
    await writeFile(badSig, await detachSign(data, [stranger], { armor: false }));
    const form = (sigFile: string) => ['-u', `admin:${ADMIN_PASSWORD}`, '-F', `package=@${file}`, '-F', `signature=@${sigFile};filename=${path.basename(file)}.sig`, `${server.url}/signed/upload/`];
    await refused('signed', async () => httpStatus(await curl(form(badSig))));

    // Alone, the package is stored but not published until a verifying signature arrives.
    assert.equal(httpStatus(await put('signed', file)), 201);
    assert.deepEqual(await dbNames('signed'), []);
    await refused('signed', async () => httpStatus(await put('signed', badSig)));
    assert.deepEqual(await dbNames('signed'), []);
    const goodSig = `${file}.sig`;
    await writeFile(goodSig, await detachSign(data, [packager], { armor: false }));
    const up = await client.upload('signed', goodSig);
    assert.equal(up.status, 'created');
    assert.deepEqual(await dbNames('signed'), ['trusted-1.0-1']);
    const served = Buffer.from(await (await fetch(`${server.url}/signed/x86_64/${path.basename(file)}.sig`)).arrayBuffer());
    assert.deepEqual(served, await readFile(goodSig));
  });

  it('with requireSignedUploads: package and verifying signature in one multipart POST are published at once', async () => {
    const file = await tinyPackage(dir, { name: 'together', version: '3-1', arch: 'any' });
    const sigFile = `${file}.sig`;
    await writeFile(sigFile, await detachSign(await readFile(file), [packager], { armor: true }));
    const r = await curl(['-u', `admin:${ADMIN_PASSWORD}`, '-F', `package=@${file}`, '-F', `sig=@${sigFile}`, `${server.url}/signed/upload/`]);
    assert.equal(httpStatus(r), 201, r.stdout);
    assert.ok((await dbNames('signed')).includes('together-3-1'));
    // An armored upload is stored in the binary form pacman reads.
    const served = Buffer.from(await (await fetch(`${server.url}/signed/x86_64/${path.basename(file)}.sig`)).arrayBuffer());
    assert.equal(served[0] & 0x80, 0x80);
  });

  it('refuses unknown or invalid repository options', async () => {
    await assert.rejects(client.createRepo({ name: 'x1', format: 'arch', options: { requireSignedUploads: true } }), (e: unknown) => e instanceof WharfApiError && e.status === 400);
    await assert.rejects(client.createRepo({ name: 'x2', format: 'arch', options: { architectures: ['any'] } }), (e: unknown) => e instanceof WharfApiError && e.status === 400);
    await assert.rejects(client.createRepo({ name: 'x3', format: 'arch', options: { colour: 'red' } }), (e: unknown) => e instanceof WharfApiError && e.status === 400);
  });
});
