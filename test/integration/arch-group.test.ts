// Arch group repositories with a real pacman: a group of a hosted repository and a proxy (of
// another Wharf) serves one db signed with the group's own key; packages and their signatures
// come from the member that lists them; the db follows an upload to a member; the
// dependency-confusion guard keeps a hosted package's name from being taken by the proxy's
// upstream unless the group allow-lists it.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WharfClient } from '../../src/client/client.ts';
import { verifyDetached } from '../../src/core/signing.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';
import { removeDir, tempDir } from '../unit/arch/fixtures.ts';
import { keyring, pacman, tinyPackage, trustKey } from './arch-helpers.ts';

async function trustRepoKey(server: TestServer, repo: string, gpgdir: string, dir: string): Promise<string> {
  const armored = await (await fetch(`${server.url}/${repo}/key.asc`)).text();
  const keyFile = path.join(dir, `${repo}-${server.port}.asc`);
  await writeFile(keyFile, armored);
  const { keys } = await (await fetch(`${server.url}/-/api/v1/repositories/${repo}/keys`, { headers: { authorization: server.adminAuth } })).json() as { keys: { fingerprint: string }[] };
  await trustKey(gpgdir, keyFile, keys[0].fingerprint);
  return armored;
}

describe('Arch group repositories', { skip: process.getuid?.() !== 0 ? 'pacman needs root' : false }, () => {
  let upstream: TestServer;
  let local: TestServer;
  let dir: string;
  let gpgdir: string;
  let lc: WharfClient;
  let groupKey: string;

  before(async () => {
    dir = await tempDir('wharf-arch-group-');
    gpgdir = await keyring(dir);
    upstream = await startServer();
    const up = new WharfClient({ url: upstream.url, user: 'admin', password: ADMIN_PASSWORD });
    await up.createRepo({ name: 'arch', format: 'arch' });
    await up.upload('arch', await tinyPackage(dir, { name: 'libgreet', version: '1.0-1', files: { 'usr/lib/libgreet.so': 'lib\n' } }));
    await up.upload('arch', await tinyPackage(dir, { name: 'greet', version: '1.0-1', arch: 'any', depends: ['libgreet>=1.0'] }));
    // The impostor: a public package that took an internal name, at a higher version.
    await up.upload('arch', await tinyPackage(dir, { name: 'secret', version: '9.0-1' }));

    local = await startServer();
    lc = new WharfClient({ url: local.url, user: 'admin', password: ADMIN_PASSWORD });
    await lc.createRepo({ name: 'inhouse', format: 'arch' });
    await lc.upload('inhouse', await tinyPackage(dir, { name: 'secret', version: '1.0-1' }));
    await lc.createRepo({ name: 'ap', format: 'arch', kind: 'proxy', options: { upstream: `${upstream.url}/arch/`, metadataTtl: 0 } });
    await lc.createRepo({ name: 'ag', format: 'arch', kind: 'group', options: { members: ['inhouse', 'ap'] } });
    await lc.createRepo({ name: 'ag-open', format: 'arch', kind: 'group', options: { members: ['inhouse', 'ap'], allowlist: ['secret'], uploadTo: 'inhouse' } });
    // The dbs are the groups' (their keys); packages keep their members' signatures.
    groupKey = await trustRepoKey(local, 'ag', gpgdir, dir);
    await trustRepoKey(local, 'ag-open', gpgdir, dir);
    await trustRepoKey(local, 'inhouse', gpgdir, dir);
    await trustRepoKey(upstream, 'arch', gpgdir, dir);
  });
  after(async () => {
    await local?.close();
    await upstream?.close();
    if (dir) await removeDir(dir);
  });

  it('signs the merged db with the group key', async () => {
    const db = new Uint8Array(await (await fetch(`${local.url}/ag/x86_64/ag.db`)).arrayBuffer());
    const sig = new Uint8Array(await (await fetch(`${local.url}/ag/x86_64/ag.db.sig`)).arrayBuffer());
    assert.equal((await verifyDetached(db, sig, [groupKey])).valid, true);
    const inhouseKey = await (await fetch(`${local.url}/inhouse/key.asc`)).text();
    assert.equal((await verifyDetached(db, sig, [inhouseKey])).valid, false);
  });

  it('pacman installs from both members; the hosted name wins over the upstream impostor', async () => {
    const p = await pacman(path.join(dir, 'p1'), gpgdir, 'ag', `${local.url}/ag/$arch`);
    await p.ok('-Sy', 'greet', 'secret');
    assert.equal(await readFile(path.join(p.dir, 'root/usr/lib/libgreet.so'), 'utf8'), 'lib\n');
    assert.equal(await readFile(path.join(p.dir, 'root/usr/bin/secret'), 'utf8'), '#!/bin/sh\necho secret 1.0-1\n');
    const direct = await fetch(`${local.url}/ag/x86_64/secret-9.0-1-x86_64.pkg.tar.zst`);
    assert.equal(direct.status, 404);
    await direct.arrayBuffer();
  });

  it('the group page tells pacman users to trust the group key', async () => {
    const res = await fetch(`${local.url}/ag/`, { headers: { accept: 'text/html' } });
    const html = await res.text();
    assert.equal(res.status, 200, html);
    assert.match(html, /ag\/key\.asc/);
    assert.match(html, /\[ag\]/);
    const { keys } = await (await fetch(`${local.url}/-/api/v1/repositories/ag/keys`, { headers: { authorization: local.adminAuth } })).json() as { keys: { fingerprint: string }[] };
    assert.match(html, new RegExp(`lsign-key ${keys[0].fingerprint}`));
    assert.match(html, /hosted members/);
  });

  it('the merged db follows an upload to a member', async () => {
    await lc.upload('inhouse', await tinyPackage(dir, { name: 'fresh', version: '2.0-1' }));
    const p = await pacman(path.join(dir, 'p2'), gpgdir, 'ag', `${local.url}/ag/$arch`);
    await p.ok('-Sy', 'fresh');
    assert.equal(await readFile(path.join(p.dir, 'root/usr/bin/fresh'), 'utf8'), '#!/bin/sh\necho fresh 2.0-1\n');
  });

  it('uploads through a group land in its uploadTo member; a group without one refuses them', async () => {
    const pkg = await readFile(await tinyPackage(dir, { name: 'via-group', version: '1.0-1' }));
    const refused = await fetch(`${local.url}/ag/upload/via-group-1.0-1-x86_64.pkg.tar.zst`, { method: 'PUT', body: pkg, headers: { authorization: local.adminAuth } });
    assert.equal(refused.status, 405, await refused.text());
    const put = await fetch(`${local.url}/ag-open/upload/via-group-1.0-1-x86_64.pkg.tar.zst`, { method: 'PUT', body: pkg, headers: { authorization: local.adminAuth } });
    assert.equal(put.status, 201, await put.text());
    assert.ok(await local.wharf.store.getPackage(local.wharf.repo('inhouse')!.id, 'via-group'));
  });

  it('an allow-listed name comes from the member with the newest version', async () => {
    const p = await pacman(path.join(dir, 'p3'), gpgdir, 'ag-open', `${local.url}/ag-open/$arch`);
    await p.ok('-Sy', 'secret');
    assert.equal(await readFile(path.join(p.dir, 'root/usr/bin/secret'), 'utf8'), '#!/bin/sh\necho secret 9.0-1\n');
  });
});
