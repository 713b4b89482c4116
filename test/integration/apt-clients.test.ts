// Real apt-get against a Wharf APT repository: signed update with no warnings, install of a
// package with a dependency, an upgrade after a newer upload, a private repository through
// auth.conf, curl and API uploads, by-hash, clean and key rotation.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../helpers/clients.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';
import { aptEnv, buildDeb, control, problems, type AptEnv } from '../helpers/apt.ts';

describe('apt-get against a Wharf APT repository', () => {
  let server: TestServer;
  let dir: string;
  const api = (p: string, init: RequestInit = {}) =>
    fetch(`${server.url}/-/api/v1${p}`, { ...init, headers: { authorization: server.adminAuth, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
  const curlUpload = (file: string, repo: string, suite = 'stable', component = 'main') =>
    run('curl', ['-sS', '-f', '-u', `admin:${ADMIN_PASSWORD}`, '-T', file, `${server.url}/${repo}/upload/${suite}/${component}/`]);
  const fetchKey = async (repo: string, auth = false) => {
    const res = await fetch(`${server.url}/${repo}/key.asc`, auth ? { headers: { authorization: server.adminAuth } } : {});
    assert.equal(res.status, 200);
    const file = path.join(dir, `${repo}-key.asc`);
    await writeFile(file, await res.text());
    return file;
  };
  const assertClean = (r: { code: number; stdout: string; stderr: string }) => {
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.deepEqual(problems(r), [], `${r.stdout}\n${r.stderr}`);
  };

  before(async () => {
    server = await startServer();
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-apt-it-'));
    const r = await api('/repositories', { method: 'POST', body: JSON.stringify({ name: 'deb', format: 'apt' }) });
    assert.equal(r.status, 201, await r.text());
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  let env: AptEnv;

  it('update and install a package with its dependency, uploaded by curl -T', async () => {
    const lib = await buildDeb(dir, 'libwharf1', control('libwharf1', '1.0-1', 'Source: libwharf\nSection: libs\n', 'all'));
    const app = await buildDeb(dir, 'wharf-hello', control('wharf-hello', '1:1.0-1', 'Depends: libwharf1 (>= 1.0)\nSection: utils\n'));
    for (const f of [lib, app]) {
      const r = await curlUpload(f, 'deb');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^added: pool\/main\//);
    }
    // The pool path comes from the control file: epoch left out, source prefix for libraries.
    const files = await (await api('/repositories/deb/files')).json() as { files: { path: string }[] };
    assert.deepEqual(files.files.map((f) => f.path).sort(), ['pool/main/libw/libwharf/libwharf1_1.0-1_all.deb', 'pool/main/w/wharf-hello/wharf-hello_1.0-1_amd64.deb']);

    env = await aptEnv(dir, { url: `${server.url}/deb`, suite: 'stable', component: 'main', keyFile: await fetchKey('deb') });
    assertClean(await env.apt('apt-get', 'update', '-o', 'APT::Update::Error-Mode=any'));
    // apt fetched the indexes by hash (Acquire-By-Hash: yes), through the strongest hash.
    assert.ok(server.requests.some((r) => /\/dists\/stable\/main\/binary-amd64\/by-hash\/SHA512\//.test(r.url) && r.status === 200), 'by-hash fetch');
    const install = await env.apt('apt-get', 'install', '-y', '--download-only', 'wharf-hello');
    assertClean(install);
    const debs = (await readdir(path.join(env.dir, 'cache/archives'))).filter((f) => f.endsWith('.deb')).sort();
    assert.deepEqual(debs, ['libwharf1_1.0-1_all.deb', 'wharf-hello_1%3a1.0-1_amd64.deb']);
  });

  it('lists a newer upload beside the old one and apt sees the upgrade', async () => {
    const v2 = await buildDeb(dir, 'wharf-hello-2', control('wharf-hello', '1:2.0-1', 'Depends: libwharf1\n'));
    // The API upload (wharf upload --suite --component) goes through the same ingest.
    const body = await readFile(v2);
    const res = await fetch(`${server.url}/-/api/v1/repositories/deb/upload?filename=wharf-hello_2.0-1_amd64.deb&suite=stable&component=main`, {
      method: 'POST', body, headers: { authorization: server.adminAuth, 'content-type': 'application/octet-stream' },
    });
    assert.equal(res.status, 201, await res.text());
    const packages = await (await fetch(`${server.url}/deb/dists/stable/main/binary-amd64/Packages`)).text();
    assert.deepEqual([...packages.matchAll(/^Version: (.*)$/gm)].map((m) => m[1]), ['1.0-1', '1:1.0-1', '1:2.0-1']);
    assertClean(await env.apt('apt-get', 'update'));
    const policy = await env.apt('apt-cache', 'policy', 'wharf-hello');
    assert.match(policy.stdout, /Candidate: 1:2\.0-1/, policy.stdout);
    const again = await env.apt('apt-get', 'install', '-y', '--download-only', 'wharf-hello');
    assertClean(again);
    assert.ok((await readdir(path.join(env.dir, 'cache/archives'))).includes('wharf-hello_1%3a2.0-1_amd64.deb'));
  });

  it('keeps the Release, its indexes and previous generations consistent', async () => {
    const release = await (await fetch(`${server.url}/deb/dists/stable/Release`)).text();
    assert.match(release, /^Acquire-By-Hash: yes$/m);
    assert.match(release, /^Codename: stable$/m);
    assert.doesNotMatch(release, /^SHA1:/m);
    const inRelease = await (await fetch(`${server.url}/deb/dists/stable/InRelease`)).text();
    assert.match(inRelease, /Hash: SHA512/);
    // Every listed file is served under its name and by each hash, with those exact bytes.
    const sha256 = release.split('SHA256:\n')[1].split(/\n(?! )/)[0].trim().split('\n').map((l) => l.trim().split(/\s+/));
    const { createHash } = await import('node:crypto');
    for (const [hex, size, rel] of sha256) {
      for (const url of [`dists/stable/${rel}`, `dists/stable/${path.dirname(rel)}/by-hash/SHA256/${hex}`]) {
        const bytes = Buffer.from(await (await fetch(`${server.url}/deb/${url}`)).arrayBuffer());
        assert.equal(bytes.length, Number(size), url);
        assert.equal(createHash('sha256').update(bytes).digest('hex'), hex, url);
      }
    }
  });

  it('clean keeps the newest versions (dry run first), remove takes one out', async () => {
    const dry = await (await api('/repositories/deb/actions/clean', { method: 'POST', body: JSON.stringify({ keep: 1, dryRun: true }) })).json() as { removed: { version: string }[] };
    assert.deepEqual(dry.removed.map((r) => r.version), ['1:1.0-1']);
    assert.equal((await server.wharf.store.repoStats(server.wharf.requireRepo('deb').id)).files, 3, 'dry run removes nothing');

    const done = await (await api('/repositories/deb/actions/clean', { method: 'POST', body: JSON.stringify({ keep: 1 }) })).json() as { removed: { bytes: number }[]; bytes: number };
    assert.equal(done.removed.length, 1);
    assert.ok(done.bytes > 0 && done.bytes === done.removed[0].bytes, 'the .deb left the pool');
    const packages = await (await fetch(`${server.url}/deb/dists/stable/main/binary-amd64/Packages`)).text();
    assert.deepEqual([...packages.matchAll(/^Version: (.*)$/gm)].map((m) => m[1]), ['1.0-1', '1:2.0-1']);
    const del = await api(`/repositories/deb/packages/wharf-hello/versions/${encodeURIComponent('1:2.0-1')}`, { method: 'DELETE' });
    assert.equal(del.status, 204);
    const after = await (await fetch(`${server.url}/deb/dists/stable/main/binary-amd64/Packages`)).text();
    assert.doesNotMatch(after, /wharf-hello/);
    assertClean(await env.apt('apt-get', 'update'));
  });

  it('a key rotation signs with both keys; a client holding only the old key still updates', async () => {
    const rotate = await api('/repositories/deb/keys/rotate', { method: 'POST', body: '{}' });
    assert.equal(rotate.status, 200);
    const inRelease = await (await fetch(`${server.url}/deb/dists/stable/InRelease`)).text();
    assert.equal(inRelease.match(/-----BEGIN PGP SIGNATURE-----/g)?.length, 1);
    assertClean(await env.apt('apt-get', 'update'));
    // A client set up afresh with the new key block also accepts it.
    const fresh = await aptEnv(await mkdtemp(path.join(dir, 'fresh-')), { url: `${server.url}/deb`, suite: 'stable', component: 'main', keyFile: await fetchKey('deb') });
    assertClean(await fresh.apt('apt-get', 'update'));
  });

  it('a private repository answers 401 without credentials and works through auth.conf', async () => {
    const r = await api('/repositories', { method: 'POST', body: JSON.stringify({ name: 'secret', format: 'apt', public: false }) });
    assert.equal(r.status, 201);
    assert.equal((await curlUpload(await buildDeb(dir, 'hidden', control('hidden', '0.1')), 'secret')).code, 0);
    assert.equal((await fetch(`${server.url}/secret/dists/stable/InRelease`)).status, 401);
    const keyFile = await fetchKey('secret', true);
    const noAuth = await aptEnv(await mkdtemp(path.join(dir, 'noauth-')), { url: `${server.url}/secret`, suite: 'stable', component: 'main', keyFile });
    const denied = await noAuth.apt('apt-get', 'update');
    assert.match(`${denied.stdout}${denied.stderr}`, /401/);
    const withAuth = await aptEnv(await mkdtemp(path.join(dir, 'auth-')), {
      url: `${server.url}/secret`, suite: 'stable', component: 'main', keyFile,
      auth: { machine: `http://127.0.0.1:${server.port}/secret`, login: 'admin', password: ADMIN_PASSWORD },
    });
    assertClean(await withAuth.apt('apt-get', 'update'));
    assertClean(await withAuth.apt('apt-get', 'install', '-y', '--download-only', 'hidden'));
  });
});
