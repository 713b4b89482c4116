// A suite large enough that Packages.gz and Packages.xz are several gzip members / xz streams
// (content-defined chunks): apt must read every package from them, and an added package must
// change only what it should.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { tinyDeb } from '../../bench/apt-add.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { aptEnv, problems } from '../helpers/apt.ts';

const COUNT = 400;

describe('a suite of many packages, in chunked Packages.gz and Packages.xz', () => {
  let server: TestServer;
  let dir: string;

  before(async () => {
    server = await startServer();
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-apt-large-'));
    const repo = await server.wharf.createRepo({ name: 'big', format: 'apt' });
    const plugin = server.wharf.pluginFor(repo);
    const ctx = server.wharf.contextFor(repo);
    const { store, blobs } = server.wharf;
    // Straight through the plugin and the store, one publish at the end (as the benchmark seeds).
    for (let i = 0; i < COUNT; i++) {
      const staged = await blobs.stageBuffer(await tinyDeb(`pkg-${String(i).padStart(4, '0')}`, '1.0-1'));
      const plan = await plugin.ingest(ctx, { staged, filename: '', fields: { suite: ['stable'], component: ['main'] } });
      await blobs.commit(staged);
      await store.transaction(async () => {
        const p = plan.package!;
        const versionId = await store.upsertVersion(await store.upsertPackage(repo.id, p.name, p.displayName), p.version, p.versionMeta);
        for (const f of plan.files) {
          await store.insertBlob(f.blob.sha256, f.blob.size);
          await store.insertFile({ repoId: repo.id, versionId, path: f.path, filename: f.filename, sha256: f.blob.sha256, size: f.blob.size, meta: f.meta });
        }
      });

    }
    await server.wharf.publish(repo, ['suite:stable']);
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('apt reads every package; an upload keeps the other chunks byte for byte', async () => {
    const gzBefore = Buffer.from(await (await fetch(`${server.url}/big/dists/stable/main/binary-amd64/Packages.gz`)).arrayBuffer());
    const members = gzBefore.toString('latin1').split('\x1f\x8b\x08\x00').length - 1;
    assert.ok(members > 1, `several gzip members (${members})`);
    const text = gunzipSync(gzBefore).toString();
    assert.equal(text.match(/^Package: /gm)?.length, COUNT);
    const plain = await (await fetch(`${server.url}/big/dists/stable/main/binary-amd64/Packages`)).text();
    assert.equal(plain, text);

    const keyFile = path.join(dir, 'key.asc');
    await writeFile(keyFile, await (await fetch(`${server.url}/big/key.asc`)).text());
    const env = await aptEnv(dir, { url: `${server.url}/big`, suite: 'stable', component: 'main', keyFile });
    const update = await env.apt('apt-get', 'update', '-o', 'APT::Update::Error-Mode=any');
    assert.equal(update.code, 0, update.stdout + update.stderr);
    assert.deepEqual(problems(update), []);
    assert.ok(server.requests.some((r) => /Packages\.xz|by-hash/.test(r.url)), 'an index was fetched');
    const names = (await env.apt('apt-cache', 'pkgnames', 'pkg-')).stdout.trim().split('\n');
    assert.equal(names.length, COUNT, 'apt read every member/stream');

    // And from the multi-member Packages.gz, when apt prefers gzip.
    const gzEnv = await aptEnv(await mkdtemp(path.join(dir, 'gz-')), { url: `${server.url}/big`, suite: 'stable', component: 'main', keyFile });
    const gzUpdate = await gzEnv.apt('apt-get', 'update', '-o', 'Acquire::CompressionTypes::Order::=gz');
    assert.deepEqual(problems(gzUpdate), [], gzUpdate.stdout + gzUpdate.stderr);
    assert.match(gzUpdate.stdout, /Packages \[/);
    assert.equal((await gzEnv.apt('apt-cache', 'pkgnames', 'pkg-')).stdout.trim().split('\n').length, COUNT);

    const res = await fetch(`${server.url}/big/upload/stable/main/`, { method: 'PUT', body: await tinyDeb('pkg-0200a', '1.0-1'), headers: { authorization: server.adminAuth } });
    assert.equal(res.status, 201);
    const gzAfter = Buffer.from(await (await fetch(`${server.url}/big/dists/stable/main/binary-amd64/Packages.gz`)).arrayBuffer());
    // Most of the compressed bytes are shared: only the chunk with the new stanza changed.
    let prefix = 0;
    while (prefix < gzBefore.length && gzBefore[prefix] === gzAfter[prefix]) prefix++;
    let suffix = 0;
    while (suffix < gzBefore.length - prefix && gzBefore[gzBefore.length - 1 - suffix] === gzAfter[gzAfter.length - 1 - suffix]) suffix++;
    assert.ok(prefix + suffix > gzBefore.length * 0.5, `unchanged chunks reused (${prefix} + ${suffix} of ${gzBefore.length})`);
    const update2 = await env.apt('apt-get', 'update');
    assert.deepEqual(problems(update2), []);
    assert.match((await env.apt('apt-cache', 'policy', 'pkg-0200a')).stdout, /Candidate: 1\.0-1/);
  });
});
