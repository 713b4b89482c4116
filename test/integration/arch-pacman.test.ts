// Real pacman against hosted Arch repositories: install with a dependency, upgrade after a
// newer upload, look files up in the .files db, and a private repository with credentials
// in the Server URL. Every db and package is checked against the repository key
// (SigLevel = Required DatabaseRequired).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WharfClient } from '../../src/client/client.ts';
import { readRepoDb } from '../../src/formats/arch/db-archive.ts';
import { parseDbEntry } from '../../src/formats/arch/desc.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';
import { removeDir, tempDir } from '../unit/arch/fixtures.ts';
import { curl, httpStatus, keyring, pacman, tinyPackage, trustKey } from './arch-helpers.ts';

describe('pacman against a Wharf Arch repository', { skip: process.getuid?.() !== 0 ? 'pacman needs root' : false }, () => {
  let server: TestServer;
  let dir: string;
  let gpgdir: string;
  let client: WharfClient;

  const trustRepoKey = async (repo: string) => {
    const res = await fetch(`${server.url}/${repo}/key.asc`, { headers: { authorization: server.adminAuth } });
    assert.equal(res.status, 200);
    const keyFile = path.join(dir, `${repo}.asc`);
    await writeFile(keyFile, await res.text());
    const { keys } = await (await fetch(`${server.url}/-/api/v1/repositories/${repo}/keys`, { headers: { authorization: server.adminAuth } })).json() as { keys: { fingerprint: string }[] };
    await trustKey(gpgdir, keyFile, keys[0].fingerprint);
  };
  const curlUpload = (repo: string, file: string) => curl(['-u', `admin:${ADMIN_PASSWORD}`, '-T', file, `${server.url}/${repo}/upload/`]);

  before(async () => {
    server = await startServer();
    dir = await tempDir('wharf-arch-it-');
    gpgdir = await keyring(dir);
    client = new WharfClient({ url: server.url, user: 'admin', password: ADMIN_PASSWORD });
    await client.createRepo({ name: 'arch', format: 'arch' });
    await trustRepoKey('arch');
  });
  after(async () => {
    await server?.close();
    if (dir) await removeDir(dir);
  });

  it('installs a package with its dependency (curl and typed-client uploads, an any package)', async () => {
    const lib = await tinyPackage(dir, { name: 'libgreet', version: '1.0-1', files: { 'usr/lib/libgreet.so': 'lib\n' } });
    const app = await tinyPackage(dir, { name: 'greet', version: '1.0-1', arch: 'any', depends: ['libgreet>=1.0'], desc: 'Says hello' });
    const up = await curlUpload('arch', lib);
    assert.equal(httpStatus(up), 201, up.stdout);
    assert.match(up.stdout, /added: x86_64\/libgreet-1\.0-1-x86_64\.pkg\.tar\.zst/);
    const res = await client.upload('arch', app);
    assert.equal(res.status, 'created');

    const p = await pacman(path.join(dir, 'p1'), gpgdir, 'myrepo', `${server.url}/arch/$arch`);
    await p.ok('-Sy');
    assert.equal(await p.ok('-Sl', 'myrepo'), 'myrepo greet 1.0-1\nmyrepo libgreet 1.0-1\n');
    await p.ok('-S', 'greet');
    assert.equal(await readFile(path.join(p.dir, 'root/usr/bin/greet'), 'utf8'), '#!/bin/sh\necho greet 1.0-1\n');
    assert.equal(await readFile(path.join(p.dir, 'root/usr/lib/libgreet.so'), 'utf8'), 'lib\n');
    assert.match(await p.ok('-Qi', 'libgreet'), /Install Reason\s*: Installed as a dependency/);
  });

  it('upgrades with -Syu after a newer upload; the db lists one version per name, older files stay downloadable', async () => {
    const p = await pacman(path.join(dir, 'p2'), gpgdir, 'arch', `${server.url}/arch/$arch`);
    await p.ok('-Sy', 'greet');
    assert.match(await p.ok('-Q', 'greet'), /^greet 1\.0-1$/m);
    // Uploaded out of order: the newest by vercmp wins, not the latest upload.
    for (const v of ['1.1-1', '1.0.9-1']) {
      const up = await curlUpload('arch', await tinyPackage(dir, { name: 'greet', version: v, arch: 'any', depends: ['libgreet'] }));
      assert.equal(httpStatus(up), 201, up.stdout);
    }
    await p.ok('-Syu');
    assert.match(await p.ok('-Q', 'greet'), /^greet 1\.1-1$/m);
    assert.equal(await readFile(path.join(p.dir, 'root/usr/bin/greet'), 'utf8'), '#!/bin/sh\necho greet 1.1-1\n');

    const db = await readRepoDb(new Uint8Array(await (await fetch(`${server.url}/arch/x86_64/whatever.db`)).arrayBuffer()));
    assert.deepEqual([...db.keys()].sort(), ['greet-1.1-1', 'libgreet-1.0-1']);
    const desc = parseDbEntry(db.get('greet-1.1-1')!.desc);
    assert.deepEqual(desc.get('FILENAME'), ['greet-1.1-1-any.pkg.tar.zst']);
    assert.deepEqual([...desc.keys()], ['FILENAME', 'NAME', 'BASE', 'VERSION', 'DESC', 'CSIZE', 'ISIZE', 'MD5SUM', 'SHA256SUM', 'URL', 'LICENSE', 'ARCH', 'BUILDDATE', 'PACKAGER', 'DEPENDS']);
    const old = await fetch(`${server.url}/arch/x86_64/greet-1.0-1-any.pkg.tar.zst`);
    assert.equal(old.status, 200);
    const listed = await client.action<{ packages: { name: string; version: string; description: string; versions: string[] }[] }>('arch', 'list', {});
    assert.deepEqual(listed.packages.map((x) => [x.name, x.version, x.description, x.versions]), [
      ['greet', '1.1-1', 'The greet package', ['1.1-1', '1.0.9-1', '1.0-1']],
      ['libgreet', '1.0-1', 'The libgreet package', ['1.0-1']],
    ]);
    const summary = await client.listPackages('arch');
    assert.equal(summary.find((x) => x.name === 'greet')?.description, 'The greet package');
  });

  it('finds which package owns a file with -Fy / -F', async () => {
    const p = await pacman(path.join(dir, 'p3'), gpgdir, 'arch', `${server.url}/arch/$arch`);
    await p.ok('-Fy');
    assert.match(await p.ok('-F', 'usr/lib/libgreet.so'), /arch\/libgreet 1\.0-1/);
    assert.match(await p.ok('-F', '/usr/bin/greet'), /arch\/greet 1\.1-1/);
    assert.match(await p.ok('-Fl', 'greet'), /greet usr\/bin\/greet/);
  });

  it('cleans old versions (dry run first), keeping N; pacman still syncs', async () => {
    const dry = await client.clean('arch', { keep: 2, dryRun: true });
    assert.deepEqual(dry.removed.map((r) => `${r.package} ${r.version}`), ['greet 1.0-1']);
    assert.ok(await fetch(`${server.url}/arch/x86_64/greet-1.0-1-any.pkg.tar.zst`).then((r) => r.ok));
    const done = await client.clean('arch', { keep: 1 });
    assert.deepEqual(done.removed.map((r) => `${r.package} ${r.version}`).sort(), ['greet 1.0-1', 'greet 1.0.9-1']);
    assert.equal((await fetch(`${server.url}/arch/x86_64/greet-1.0-1-any.pkg.tar.zst`)).status, 404);
    assert.equal((await fetch(`${server.url}/arch/x86_64/greet-1.0-1-any.pkg.tar.zst.sig`)).status, 404);
    const p = await pacman(path.join(dir, 'p4'), gpgdir, 'arch', `${server.url}/arch/$arch`);
    await p.ok('-Sy', 'greet');
    assert.match(await p.ok('-Q', 'greet'), /^greet 1\.1-1$/m);
  });

  it('removes a package: the db stops listing it', async () => {
    await client.deletePackage('arch', 'greet');
    const p = await pacman(path.join(dir, 'p5'), gpgdir, 'arch', `${server.url}/arch/$arch`);
    await p.ok('-Sy');
    assert.equal(await p.ok('-Sl', 'arch'), 'arch libgreet 1.0-1\n');
  });

  it('is refused by pacman when the repository key is not trusted (the signature check is real)', async () => {
    await client.createRepo({ name: 'untrusted', format: 'arch' });
    await curlUpload('untrusted', await tinyPackage(dir, { name: 'libgreet', version: '1.0-1', files: { 'usr/lib/libgreet.so': 'lib\n' } }));
    const p = await pacman(path.join(dir, 'p8'), gpgdir, 'untrusted', `${server.url}/untrusted/$arch`);
    const r = await p.run('-Sy');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /signature|unknown trust|invalid or corrupted database/i);
  });

  it('serves a private repository to pacman with credentials in the Server URL only', async () => {
    await client.createRepo({ name: 'secret', format: 'arch', public: false });
    await trustRepoKey('secret');
    const up = await curlUpload('secret', await tinyPackage(dir, { name: 'hidden', version: '2:0.1-3' }));
    assert.equal(httpStatus(up), 201, up.stdout);
    const anon = await pacman(path.join(dir, 'p6'), gpgdir, 'secret', `${server.url}/secret/$arch`);
    const refused = await anon.run('-Sy');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /401|failed to (retrieve|synchronize)/i);
    const authed = await pacman(path.join(dir, 'p7'), gpgdir, 'secret', `http://admin:${ADMIN_PASSWORD}@127.0.0.1:${server.port}/secret/$arch`);
    await authed.ok('-Sy', 'hidden');
    assert.match(await authed.ok('-Q', 'hidden'), /^hidden 2:0\.1-3$/m);
  });
});
