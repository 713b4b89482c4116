// The cooldown (minAge) on Arch proxies and groups with pacman: a package's age is the time the
// proxy first saw it in its upstream's db (Arch dbs carry a build date, not an upload time).
// Rows of upstream_first_seen are backdated before the first read to stand for time gone by.
// A proxy with minAge serves its own filtered dbs signed with its own key; packages keep
// their upstream signatures.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WharfClient } from '../../src/client/client.ts';
import { FirstSeenStore } from '../../src/db/first-seen-store.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';
import { removeDir, tempDir } from '../unit/arch/fixtures.ts';
import { keyring, pacman, tinyPackage, trustKey } from './arch-helpers.ts';

const OLD = 'oldpkg-1.0-1-x86_64.pkg.tar.zst';
const NEW = 'newpkg-1.0-1-x86_64.pkg.tar.zst';
const LONG_AGO = '2020-01-01T00:00:00.000Z';

describe('Arch cooldown (minAge)', { skip: process.getuid?.() !== 0 ? 'pacman needs root' : false }, () => {
  let upstream: TestServer;
  let local: TestServer;
  let dir: string;
  let gpgdir: string;
  let n = 0;

  const trust = async (server: TestServer, repo: string) => {
    const res = await fetch(`${server.url}/${repo}/key.asc`);
    assert.equal(res.status, 200, `${repo}/key.asc`);
    const keyFile = path.join(dir, `${repo}-${++n}.asc`);
    await writeFile(keyFile, await res.text());
    const { keys } = await (await fetch(`${server.url}/-/api/v1/repositories/${repo}/keys`, { headers: { authorization: server.adminAuth } })).json() as { keys: { fingerprint: string }[] };
    await trustKey(gpgdir, keyFile, keys[0].fingerprint);
  };
  const client = (repo: string) => pacman(path.join(dir, `p${++n}`), gpgdir, repo, `${local.url}/${repo}/$arch`);
  const installed = (p: { dir: string }, name: string) => readFile(path.join(p.dir, `root/usr/bin/${name}`), 'utf8');

  before(async () => {
    dir = await tempDir('wharf-arch-cooldown-');
    gpgdir = await keyring(dir);
    upstream = await startServer();
    const up = new WharfClient({ url: upstream.url, user: 'admin', password: ADMIN_PASSWORD });
    await up.createRepo({ name: 'arch', format: 'arch' });
    await up.upload('arch', await tinyPackage(dir, { name: 'oldpkg', version: '1.0-1' }));
    await up.upload('arch', await tinyPackage(dir, { name: 'newpkg', version: '1.0-1' }));
    local = await startServer();
    const lc = new WharfClient({ url: local.url, user: 'admin', password: ADMIN_PASSWORD });
    const upstreamUrl = `${upstream.url}/arch/`;
    await lc.createRepo({ name: 'plain', format: 'arch', kind: 'proxy', options: { upstream: upstreamUrl } });
    await lc.createRepo({ name: 'cool', format: 'arch', kind: 'proxy', options: { upstream: upstreamUrl, minAge: '7d', minAgeBaseline: 'now' } });
    await lc.createRepo({ name: 'cool-ex', format: 'arch', kind: 'proxy', options: { upstream: upstreamUrl, minAge: '7d', minAgeBaseline: 'now', minAgeExempt: ['newpkg'] } });
    await lc.createRepo({ name: 'up', format: 'arch', kind: 'proxy', options: { upstream: upstreamUrl, minAgeBaseline: 'now' } });
    await lc.createRepo({ name: 'inhouse', format: 'arch' });
    await lc.upload('inhouse', await tinyPackage(dir, { name: 'mine', version: '1.0-1' }));
    await lc.createRepo({ name: 'cool-group', format: 'arch', kind: 'group', options: { members: ['inhouse', 'up'], minAge: '7d' } });
    // These stand for proxies whose clock started at their first read (minAgeBaseline "now").
    for (const r of ['cool', 'cool-ex', 'up']) await new FirstSeenStore(local.wharf.store.sql).record(local.wharf.repo(r)!.id, [OLD], LONG_AGO);
    // Packages keep their signatures: the upstream's key (and inhouse's) sign them; the
    // proxies with minAge and the group sign their dbs.
    await trust(upstream, 'arch');
    for (const r of ['inhouse', 'cool', 'cool-ex', 'cool-group']) await trust(local, r);
  });
  after(async () => {
    await local?.close();
    await upstream?.close();
    if (dir) await removeDir(dir);
  });

  it('without minAge a proxy passes the upstream db through: both packages', async () => {
    const key = await fetch(`${local.url}/plain/key.asc`);
    assert.equal(key.status, 404, 'no key of its own');
    await key.arrayBuffer();
    const p = await client('plain');
    await p.ok('-Sy', 'oldpkg', 'newpkg');
    assert.equal(await installed(p, 'newpkg'), '#!/bin/sh\necho newpkg 1.0-1\n');
  });

  it('with minAge a proxy lists only what it first saw long enough ago, its db signed with its own key', async () => {
    const p = await client('cool');
    await p.ok('-Sy', 'oldpkg');
    assert.equal(await installed(p, 'oldpkg'), '#!/bin/sh\necho oldpkg 1.0-1\n');
    const young = await p.run('-S', 'newpkg');
    assert.notEqual(young.code, 0);
    assert.match(`${young.stdout}${young.stderr}`, /target not found: newpkg/);
    const direct = await fetch(`${local.url}/cool/x86_64/${NEW}`);
    assert.equal(direct.status, 404);
    assert.match(await direct.text(), /younger than cool's minAge \(7d\)/);
  });

  it('minAgeExempt lets a named package through at once', async () => {
    const p = await client('cool-ex');
    await p.ok('-Sy', 'oldpkg', 'newpkg');
    assert.equal(await installed(p, 'newpkg'), '#!/bin/sh\necho newpkg 1.0-1\n');
  });

  it("a group's minAge hides its proxies' young packages; hosted members are exempt", async () => {
    const p = await client('cool-group');
    await p.ok('-Sy', 'mine', 'oldpkg');
    assert.equal(await installed(p, 'mine'), '#!/bin/sh\necho mine 1.0-1\n');
    const young = await p.run('-S', 'newpkg');
    assert.match(`${young.stdout}${young.stderr}`, /target not found: newpkg/);
    const direct = await fetch(`${local.url}/cool-group/x86_64/${NEW}.sig`);
    assert.equal(direct.status, 404);
    assert.match(await direct.text(), /younger than cool-group's minAge/);
  });
});
