// APT and Arch groups whose proxy member's upstream is down: the group still answers with the
// merge of the members that do (a proxy that read its upstream before serves its stale
// indexes; one that never did is left out), so apt-get and pacman keep installing hosted
// packages instead of failing on a 502. The dependency-confusion guard still holds.
import assert from 'node:assert/strict';
import { readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WharfClient } from '../../src/client/client.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';
import { aptEnv, buildDeb, control, problems } from '../helpers/apt.ts';
import { removeDir, tempDir } from '../unit/arch/fixtures.ts';
import { keyring, pacman, tinyPackage, trustKey } from './arch-helpers.ts';

async function api(server: TestServer, p: string, body: object) {
  const res = await fetch(`${server.url}/-/api/v1${p}`, { method: 'POST', body: JSON.stringify(body), headers: { authorization: server.adminAuth, 'content-type': 'application/json' } });
  assert.equal(res.status, 201, await res.text());
}

async function aptUpload(server: TestServer, repo: string, file: string) {
  const res = await fetch(`${server.url}/${repo}/upload/stable/main/`, { method: 'PUT', body: await readFile(file), headers: { authorization: server.adminAuth } });
  assert.equal(res.status, 201, await res.text());
}

describe('APT group with a proxy member whose upstream is down', () => {
  let upstream: TestServer;
  let local: TestServer;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-apt-down-'));
    upstream = await startServer();
    await api(upstream, '/repositories', { name: 'deb', format: 'apt' });
    await aptUpload(upstream, 'deb', await buildDeb(dir, 'uptool', control('uptool', '1.0-1')));
    await aptUpload(upstream, 'deb', await buildDeb(dir, 'internal-tool-up', control('internal-tool', '9.0-1')));
    local = await startServer();
    await api(local, '/repositories', { name: 'inhouse', format: 'apt' });
    await aptUpload(local, 'inhouse', await buildDeb(dir, 'internal-tool', control('internal-tool', '1.0-1')));
    await api(local, '/repositories', { name: 'cold', format: 'apt', kind: 'proxy', options: { upstream: `${upstream.url}/deb/`, metadataTtl: 0 } });
    await api(local, '/repositories', { name: 'warm', format: 'apt', kind: 'proxy', options: { upstream: `${upstream.url}/deb/`, metadataTtl: 0 } });
    await api(local, '/repositories', { name: 'warm-only', format: 'apt', kind: 'group', options: { members: ['warm'] } });
    await api(local, '/repositories', { name: 'g', format: 'apt', kind: 'group', options: { members: ['inhouse', 'cold', 'warm'] } });
    // `warm` reads its upstream's suite once (through a group of it alone); `cold` never does.
    const r = await fetch(`${local.url}/warm-only/dists/stable/main/binary-amd64/Packages`);
    assert.equal(r.status, 200, await r.text());
    await upstream.close();
  });
  after(async () => {
    await local?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('apt-get updates and installs through the group; the stale member still lists its packages; the guard holds', async () => {
    const keyFile = path.join(dir, 'g.asc');
    await writeFile(keyFile, await (await fetch(`${local.url}/g/key.asc`)).text());
    const env = await aptEnv(path.join(dir, 'a'), { url: `${local.url}/g`, suite: 'stable', component: 'main', keyFile });
    const up = await env.apt('apt-get', 'update', '-o', 'APT::Update::Error-Mode=any');
    assert.equal(up.code, 0, `${up.stdout}\n${up.stderr}`);
    assert.deepEqual(problems(up), [], `${up.stdout}\n${up.stderr}`);
    const inst = await env.apt('apt-get', 'install', '-y', '--download-only', 'internal-tool');
    assert.equal(inst.code, 0, `${inst.stdout}\n${inst.stderr}`);
    assert.match(inst.stdout, /internal-tool/);
    const res = await fetch(`${local.url}/g/dists/stable/main/binary-amd64/Packages`);
    assert.equal(res.headers.get('x-wharf-stale'), 'true', 'a merge without a member is marked stale');
    const packages = await res.text();
    assert.match(packages, /^Package: uptool$/m, 'the stale member\'s index is merged');
    assert.doesNotMatch(packages, /^Version: 9\.0-1$/m, 'the impostor stays hidden');
  });
});

describe('Arch group with a proxy member whose upstream is down', { skip: process.getuid?.() !== 0 ? 'pacman needs root' : false }, () => {
  let upstream: TestServer;
  let local: TestServer;
  let dir: string;
  let gpgdir: string;

  before(async () => {
    dir = await tempDir('wharf-arch-down-');
    gpgdir = await keyring(dir);
    upstream = await startServer();
    const up = new WharfClient({ url: upstream.url, user: 'admin', password: ADMIN_PASSWORD });
    await up.createRepo({ name: 'arch', format: 'arch' });
    await up.upload('arch', await tinyPackage(dir, { name: 'uptool', version: '1.0-1' }));
    await up.upload('arch', await tinyPackage(dir, { name: 'secret', version: '9.0-1' }));
    local = await startServer();
    const lc = new WharfClient({ url: local.url, user: 'admin', password: ADMIN_PASSWORD });
    await lc.createRepo({ name: 'inhouse', format: 'arch' });
    await lc.upload('inhouse', await tinyPackage(dir, { name: 'secret', version: '1.0-1' }));
    await lc.createRepo({ name: 'cold', format: 'arch', kind: 'proxy', options: { upstream: `${upstream.url}/arch/`, metadataTtl: 0 } });
    await lc.createRepo({ name: 'warm', format: 'arch', kind: 'proxy', options: { upstream: `${upstream.url}/arch/`, metadataTtl: 0 } });
    await lc.createRepo({ name: 'ag', format: 'arch', kind: 'group', options: { members: ['inhouse', 'cold', 'warm'] } });
    const r = await fetch(`${local.url}/warm/x86_64/ag.db`);
    assert.equal(r.status, 200, await r.text());
    for (const repo of ['ag', 'inhouse']) {
      const keyFile = path.join(dir, `${repo}.asc`);
      await writeFile(keyFile, await (await fetch(`${local.url}/${repo}/key.asc`)).text());
      const { keys } = await (await fetch(`${local.url}/-/api/v1/repositories/${repo}/keys`, { headers: { authorization: local.adminAuth } })).json() as { keys: { fingerprint: string }[] };
      await trustKey(gpgdir, keyFile, keys[0].fingerprint);
    }
    await upstream.close();
  });
  after(async () => {
    await local?.close();
    if (dir) await removeDir(dir);
  });

  it('pacman syncs and installs through the group; the stale member still lists its packages; the guard holds', async () => {
    const p = await pacman(path.join(dir, 'p'), gpgdir, 'ag', `${local.url}/ag/$arch`);
    await p.ok('-Sy', 'secret');
    assert.equal(await readFile(path.join(p.dir, 'root/usr/bin/secret'), 'utf8'), '#!/bin/sh\necho secret 1.0-1\n');
    assert.match(await p.ok('-Ss', 'uptool'), /uptool/, 'the stale member\'s db is merged');
  });
});
