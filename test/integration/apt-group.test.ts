// APT group repositories: apt-get updates and installs through a group of a hosted repository
// and a proxy (of another Wharf), trusting only the group's key; the group's merged suite
// follows a member's upload; the dependency-confusion guard keeps a hosted package's name
// from being taken by the proxy's upstream unless the group allow-lists it.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
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

describe('APT group repositories', () => {
  let upstream: TestServer;
  let local: TestServer;
  let dir: string;
  const keyOf = async (repo: string) => {
    const res = await fetch(`${local.url}/${repo}/key.asc`);
    assert.equal(res.status, 200);
    const file = path.join(dir, `${repo}.asc`);
    await writeFile(file, await res.text());
    return file;
  };
  const debs = async (envDir: string) => (await readdir(path.join(envDir, 'cache/archives'))).filter((f) => f.endsWith('.deb')).sort();

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-apt-group-'));
    upstream = await startServer();
    await createRepo(upstream, { name: 'deb', format: 'apt' });
    await upload(upstream, 'deb', await buildDeb(dir, 'libwharf1', control('libwharf1', '1.0-1', 'Section: libs\n', 'all')));
    await upload(upstream, 'deb', await buildDeb(dir, 'wharf-hello', control('wharf-hello', '1.0-1', 'Depends: libwharf1 (>= 1.0)\n')));
    // The impostor: a public package that took the name of an internal one, at a higher version.
    await upload(upstream, 'deb', await buildDeb(dir, 'internal-tool-up', control('internal-tool', '9.0-1')));
    local = await startServer();
    await createRepo(local, { name: 'inhouse', format: 'apt' });
    await upload(local, 'inhouse', await buildDeb(dir, 'internal-tool', control('internal-tool', '1.0-1')));
    await createRepo(local, { name: 'debproxy', format: 'apt', kind: 'proxy', options: { upstream: `${upstream.url}/deb/`, metadataTtl: 0 } });
    await createRepo(local, { name: 'debs', format: 'apt', kind: 'group', options: { members: ['inhouse', 'debproxy'] } });
    await createRepo(local, { name: 'debs-open', format: 'apt', kind: 'group', options: { members: ['inhouse', 'debproxy'], allowlist: ['internal-tool'], uploadTo: 'inhouse' } });
  });
  after(async () => {
    await local?.close();
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a group of groups and unknown options', async () => {
    const nested = await api(local, '/repositories', { method: 'POST', body: JSON.stringify({ name: 'g2', format: 'apt', kind: 'group', options: { members: ['debs'] } }) });
    assert.equal(nested.status, 400);
    const unknown = await api(local, '/repositories', { method: 'POST', body: JSON.stringify({ name: 'g3', format: 'apt', kind: 'group', options: { members: ['inhouse'], suites: {} } }) });
    assert.equal(unknown.status, 400);
  });

  it('apt-get installs from both members trusting only the group key; the hosted name wins', async () => {
    const groupKey = await keyOf('debs');
    assert.notEqual(await readFile(groupKey, 'utf8'), await readFile(await keyOf('inhouse'), 'utf8'), 'the group has a key of its own');
    const env = await aptEnv(path.join(dir, 'a'), { url: `${local.url}/debs`, suite: 'stable', component: 'main', keyFile: groupKey });
    assertClean(await env.apt('apt-get', 'update', '-o', 'APT::Update::Error-Mode=any'));
    assert.ok(local.requests.some((r) => /\/debs\/dists\/stable\/main\/binary-amd64\/by-hash\/SHA512\//.test(r.url) && r.status === 200), 'by-hash fetch');
    assertClean(await env.apt('apt-get', 'install', '-y', '--download-only', 'wharf-hello', 'internal-tool'));
    assert.deepEqual(await debs(env.dir), ['internal-tool_1.0-1_amd64.deb', 'libwharf1_1.0-1_all.deb', 'wharf-hello_1.0-1_amd64.deb']);
    const policy = await env.apt('apt-cache', 'policy', 'internal-tool');
    assert.doesNotMatch(policy.stdout, /9\.0-1/, 'the upstream impostor is not listed');
    // Nor served by its pool path through the group.
    const direct = await fetch(`${local.url}/debs/pool/main/i/internal-tool/internal-tool_9.0-1_amd64.deb`);
    assert.equal(direct.status, 404);
    await direct.arrayBuffer();
  });

  it('the group page tells apt users to trust the group key', async () => {
    const res = await fetch(`${local.url}/debs/`, { headers: { accept: 'text/html' } });
    const html = await res.text();
    assert.equal(res.status, 200, html);
    assert.match(html, /debs\/key\.asc/);
    assert.match(html, /Suites: stable/);
  });

  it('the merged suite follows an upload to a member', async () => {
    await upload(local, 'inhouse', await buildDeb(dir, 'fresh-tool', control('fresh-tool', '2.0-1')));
    const env = await aptEnv(path.join(dir, 'b'), { url: `${local.url}/debs`, suite: 'stable', component: 'main', keyFile: path.join(dir, 'debs.asc') });
    assertClean(await env.apt('apt-get', 'update', '-o', 'APT::Update::Error-Mode=any'));
    assertClean(await env.apt('apt-get', 'install', '-y', '--download-only', 'fresh-tool'));
    assert.deepEqual(await debs(env.dir), ['fresh-tool_2.0-1_amd64.deb']);
  });

  it('uploads through a group land in its uploadTo member; a group without one refuses them', async () => {
    const deb = await readFile(await buildDeb(dir, 'via-group', control('via-group', '1.0-1')));
    const refused = await fetch(`${local.url}/debs/upload/stable/main/`, { method: 'PUT', body: deb, headers: { authorization: local.adminAuth } });
    assert.equal(refused.status, 405, await refused.text());
    const put = await fetch(`${local.url}/debs-open/upload/stable/main/`, { method: 'PUT', body: deb, headers: { authorization: local.adminAuth } });
    assert.equal(put.status, 201, await put.text());
    assert.ok(await local.wharf.store.getPackage(local.wharf.repo('inhouse')!.id, 'via-group'));
  });

  it('an allow-listed name is merged from both members', async () => {
    const env = await aptEnv(path.join(dir, 'c'), { url: `${local.url}/debs-open`, suite: 'stable', component: 'main', keyFile: await keyOf('debs-open') });
    assertClean(await env.apt('apt-get', 'update', '-o', 'APT::Update::Error-Mode=any'));
    assertClean(await env.apt('apt-get', 'install', '-y', '--download-only', 'internal-tool'));
    assert.deepEqual(await debs(env.dir), ['internal-tool_9.0-1_amd64.deb']);
  });
});
