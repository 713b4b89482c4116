// The cooldown (minAge) on APT proxies and groups with apt-get: a package's age is the time
// the proxy first saw it in its upstream's Packages (APT indexes carry no upload time). Rows
// of upstream_first_seen are backdated before the first read to stand for time gone by. A
// proxy with minAge serves its own filtered suites signed with its own key.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FirstSeenStore } from '../../src/db/first-seen-store.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { aptEnv, buildDeb, control, problems } from '../helpers/apt.ts';

async function api(server: TestServer, p: string, init: RequestInit = {}) {
  return fetch(`${server.url}/-/api/v1${p}`, { ...init, headers: { authorization: server.adminAuth, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
}

async function createRepo(server: TestServer, body: object) {
  const res = await api(server, '/repositories', { method: 'POST', body: JSON.stringify(body) });
  assert.equal(res.status, 201, await res.text());
}

async function upload(server: TestServer, repo: string, file: string) {
  const res = await fetch(`${server.url}/${repo}/upload/stable/main/`, { method: 'PUT', body: await readFile(file), headers: { authorization: server.adminAuth } });
  assert.equal(res.status, 201, await res.text());
}

const assertClean = (r: { code: number; stdout: string; stderr: string }) => {
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.deepEqual(problems(r), [], `${r.stdout}\n${r.stderr}`);
};

const OLD = 'pool/main/o/oldpkg/oldpkg_1.0-1_amd64.deb';
const NEW = 'pool/main/n/newpkg/newpkg_1.0-1_amd64.deb';
const LONG_AGO = '2020-01-01T00:00:00.000Z';

describe('APT cooldown (minAge)', () => {
  let upstream: TestServer;
  let local: TestServer;
  let dir: string;
  let n = 0;

  const keyOf = async (server: TestServer, repo: string) => {
    const res = await fetch(`${server.url}/${repo}/key.asc`);
    assert.equal(res.status, 200, `${repo}/key.asc`);
    const file = path.join(dir, `${repo}-${++n}.asc`);
    await writeFile(file, await res.text());
    return file;
  };
  /** apt-get update through `repo` (trusting `keyFile`), then try to download `pkgs`. */
  const tryInstall = async (repo: string, keyFile: string, ...pkgs: string[]) => {
    const env = await aptEnv(path.join(dir, `env-${++n}`), { url: `${local.url}/${repo}`, suite: 'stable', component: 'main', keyFile });
    assertClean(await env.apt('apt-get', 'update', '-o', 'APT::Update::Error-Mode=any'));
    const r = await env.apt('apt-get', 'install', '-y', '--download-only', ...pkgs);
    const debs = (await readdir(path.join(env.dir, 'cache/archives'))).filter((f) => f.endsWith('.deb')).sort();
    return { r, debs };
  };
  /** The old package was seen long ago by `repo`; the new one is first seen at the first read. */
  const backdate = async (repo: string) => new FirstSeenStore(local.wharf.store.sql).record(local.wharf.repo(repo)!.id, [OLD], LONG_AGO);

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-apt-cooldown-'));
    upstream = await startServer();
    await createRepo(upstream, { name: 'deb', format: 'apt' });
    await upload(upstream, 'deb', await buildDeb(dir, 'oldpkg', control('oldpkg', '1.0-1')));
    await upload(upstream, 'deb', await buildDeb(dir, 'newpkg', control('newpkg', '1.0-1')));
    local = await startServer();
    const upstreamUrl = `${upstream.url}/deb/`;
    await createRepo(local, { name: 'plain', format: 'apt', kind: 'proxy', options: { upstream: upstreamUrl } });
    await createRepo(local, { name: 'cool', format: 'apt', kind: 'proxy', options: { upstream: upstreamUrl, minAge: '7d', minAgeBaseline: 'now' } });
    await createRepo(local, { name: 'cool-ex', format: 'apt', kind: 'proxy', options: { upstream: upstreamUrl, minAge: '7d', minAgeBaseline: 'now', minAgeExempt: ['newpkg'] } });
    await createRepo(local, { name: 'up', format: 'apt', kind: 'proxy', options: { upstream: upstreamUrl, minAgeBaseline: 'now' } });
    await createRepo(local, { name: 'inhouse', format: 'apt' });
    await upload(local, 'inhouse', await buildDeb(dir, 'mine', control('mine', '1.0-1')));
    await createRepo(local, { name: 'cool-group', format: 'apt', kind: 'group', options: { members: ['inhouse', 'up'], minAge: '7d' } });
    // These stand for proxies whose clock started at their first read (minAgeBaseline "now").
    for (const r of ['cool', 'cool-ex', 'up']) await backdate(r);
    await createRepo(local, { name: 'fresh', format: 'apt', kind: 'proxy', options: { upstream: upstreamUrl, minAge: '7d', metadataTtl: 0 } });
  });
  after(async () => {
    await local?.close();
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('without minAge a proxy passes the upstream suite through: both packages, the upstream key', async () => {
    const { r, debs } = await tryInstall('plain', await keyOf(upstream, 'deb'), 'oldpkg', 'newpkg');
    assertClean(r);
    assert.deepEqual(debs, ['newpkg_1.0-1_amd64.deb', 'oldpkg_1.0-1_amd64.deb']);
  });

  it('with minAge a proxy lists only what it first saw long enough ago, signed with its own key', async () => {
    const key = await keyOf(local, 'cool');
    const ok = await tryInstall('cool', key, 'oldpkg');
    assertClean(ok.r);
    assert.deepEqual(ok.debs, ['oldpkg_1.0-1_amd64.deb']);
    const young = await tryInstall('cool', key, 'newpkg');
    assert.notEqual(young.r.code, 0, 'newpkg is too young to be listed');
    assert.match(`${young.r.stdout}${young.r.stderr}`, /Unable to locate package newpkg/);
    // Nor served by its pool path; the answer says why.
    const direct = await fetch(`${local.url}/cool/${NEW}`);
    assert.equal(direct.status, 404);
    assert.match(await direct.text(), /younger than cool's minAge \(7d\)/);
  });

  it('the proxy pages say which key to trust', async () => {
    const cool = await fetch(`${local.url}/cool/`, { headers: { accept: 'text/html' } });
    const html = await cool.text();
    assert.equal(cool.status, 200, html);
    assert.match(html, /cool\/key\.asc/);
    const plain = await fetch(`${local.url}/plain/`, { headers: { accept: 'text/html' } });
    const text = await plain.text();
    assert.equal(plain.status, 200, text);
    assert.match(text, /debian-archive-keyring/);
  });

  it('minAgeExempt lets a named package through at once', async () => {
    const { r, debs } = await tryInstall('cool-ex', await keyOf(local, 'cool-ex'), 'oldpkg', 'newpkg');
    assertClean(r);
    assert.deepEqual(debs, ['newpkg_1.0-1_amd64.deb', 'oldpkg_1.0-1_amd64.deb']);
  });

  it("a group's minAge hides its proxies' young packages; hosted members are exempt", async () => {
    const key = await keyOf(local, 'cool-group');
    const ok = await tryInstall('cool-group', key, 'mine', 'oldpkg');
    assertClean(ok.r);
    assert.deepEqual(ok.debs, ['mine_1.0-1_amd64.deb', 'oldpkg_1.0-1_amd64.deb']);
    const young = await tryInstall('cool-group', key, 'newpkg');
    assert.notEqual(young.r.code, 0, 'newpkg is too young to be listed');
    const direct = await fetch(`${local.url}/cool-group/${NEW}`);
    assert.equal(direct.status, 404);
    assert.match(await direct.text(), /younger than cool-group's minAge/);
  });

  it('a package comes of age: listed once its first sight is minAge ago', async () => {
    await local.wharf.store.sql.run('UPDATE upstream_first_seen SET first_seen = ? WHERE repo_id = ? AND key = ?', [LONG_AGO, local.wharf.repo('cool')!.id, NEW]);
    // The merged suite said when its next package comes of age; here that is simulated by a
    // new minAge (another memo key), as no test waits seven days.
    const patched = await api(local, '/repositories/cool', { method: 'PATCH', body: JSON.stringify({ options: { minAge: '6d' } }) });
    assert.equal(patched.status, 200, await patched.text());
    const { r, debs } = await tryInstall('cool', await keyOf(local, 'cool'), 'newpkg');
    assertClean(r);
    assert.deepEqual(debs, ['newpkg_1.0-1_amd64.deb']);
  });

  it('a new proxy (minAgeBaseline "initial", the default) serves what its upstream had at its first read; later additions wait', async () => {
    const key = await keyOf(local, 'fresh');
    const first = await tryInstall('fresh', key, 'oldpkg', 'newpkg');
    assertClean(first.r);
    assert.deepEqual(first.debs, ['newpkg_1.0-1_amd64.deb', 'oldpkg_1.0-1_amd64.deb']);
    await upload(upstream, 'deb', await buildDeb(dir, 'laterpkg', control('laterpkg', '1.0-1')));
    const later = await tryInstall('fresh', key, 'laterpkg');
    assert.notEqual(later.r.code, 0, 'laterpkg, added after the first read, is too young');
    assert.match(`${later.r.stdout}${later.r.stderr}`, /Unable to locate package laterpkg/);
  });
});
