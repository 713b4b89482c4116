// Another process writes the same database (a second replica, or a command run beside the
// server): what it commits must be what this server serves at once, and what this server
// publishes next must build on it. The other writer is a real second process with its own
// core on the running server's files (test/helpers/other-writer.ts), without the data
// directory's lock, which one server process holds.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { readRepoDb } from '../../src/formats/arch/db-archive.ts';
import { ingestSample, type OtherWrite } from '../helpers/other-writer.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { databaseEnv } from '../helpers/test-database.ts';

const run = promisify(execFile);

describe('a second writer on the same database', () => {
  let a: TestServer;
  const other = async (ops: OtherWrite[]) => {
    await run(process.execPath, ['test/helpers/other-writer.ts', a.data, JSON.stringify(ops)], { env: { ...process.env, ...(await databaseEnv(a.data)) } });
  };

  // What server A serves, as package names.
  const get = async (path: string) => {
    const res = await fetch(`${a.url}${path}`);
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  };
  const aptNames = async () => {
    const r = await get('/deb/dists/stable/main/binary-amd64/Packages');
    assert.equal(r.status, 200);
    return [...r.body.toString().matchAll(/^Package: (\S+)$/gm)].map((m) => m[1]).sort();
  };
  const archNames = async () => {
    const r = await get('/pac/x86_64/pac.db');
    assert.equal(r.status, 200);
    return [...(await readRepoDb(r.body)).keys()].map((dir) => dir.replace(/-[^-]+-[^-]+$/, '')).sort();
  };
  const pypiNames = async () => {
    const r = await get('/py/simple/');
    assert.equal(r.status, 200);
    return [...r.body.toString().matchAll(/<a href="[^"]*">([^<]+)<\/a>/g)].map((m) => m[1]).sort();
  };
  const pypiPage = async (name: string) => (await get(`/py/simple/${name}/`)).status;

  before(async () => {
    a = await startServer();
    await a.wharf.createRepo({ name: 'deb', format: 'apt' });
    await a.wharf.createRepo({ name: 'pac', format: 'arch' });
    await a.wharf.createRepo({ name: 'py', format: 'pypi' });
    for (const n of ['one', 'two']) for (const repo of ['deb', 'pac', 'py']) await ingestSample(a.wharf, repo, n);
    await a.wharf.publisher.flush();
    // Read everything once through A, so every cache and incremental state of A is warm.
    assert.deepEqual(await aptNames(), ['one', 'two']);
    assert.deepEqual(await archNames(), ['one', 'two']);
    assert.deepEqual(await pypiNames(), ['one', 'two']);
    assert.equal(await pypiPage('two'), 200);
  });

  after(async () => {
    await a?.close();
  });

  it('serves what the other writer deleted as deleted, at once', async () => {
    await other([{ op: 'delete', repo: 'deb', name: 'two' }, { op: 'delete', repo: 'pac', name: 'two' }, { op: 'delete', repo: 'py', name: 'two' }]);
    assert.deepEqual(await aptNames(), ['one']);
    assert.deepEqual(await archNames(), ['one']);
    assert.deepEqual(await pypiNames(), ['one']);
    assert.equal(await pypiPage('two'), 404);
  });

  it('builds its own next indexes on the other writer\'s changes', async () => {
    for (const repo of ['deb', 'pac', 'py']) await ingestSample(a.wharf, repo, 'three');
    await a.wharf.publisher.flush();
    assert.deepEqual(await aptNames(), ['one', 'three']);
    assert.deepEqual(await archNames(), ['one', 'three']);
    assert.deepEqual(await pypiNames(), ['one', 'three']);
  });

  it('serves the other writer\'s uploads at once, and A\'s next publish keeps them', async () => {
    await other([{ op: 'ingest', repo: 'deb', name: 'four' }, { op: 'ingest', repo: 'pac', name: 'four' }]);
    assert.deepEqual(await aptNames(), ['four', 'one', 'three']);
    assert.deepEqual(await archNames(), ['four', 'one', 'three']);
    await a.wharf.packages.deletePackage(a.wharf.requireRepo('deb'), 'one');
    await a.wharf.packages.deletePackage(a.wharf.requireRepo('pac'), 'one');
    assert.deepEqual(await aptNames(), ['four', 'three']);
    assert.deepEqual(await archNames(), ['four', 'three']);
  });

  it('drops the state of a repository the other writer deleted and created again', async () => {
    await other([{ op: 'recreate', repo: 'pac' }, { op: 'ingest', repo: 'pac', name: 'five' }]);
    assert.deepEqual(await archNames(), ['five']);
    await ingestSample(a.wharf, 'pac', 'six');
    assert.deepEqual(await archNames(), ['five', 'six']);
  });

  it('refuses downloads of a project the other writer quarantined, at once, and serves them again when it lifts it', async () => {
    const file = (await get('/py/simple/one/')).body.toString().match(/href="\.\.\/\.\.\/(packages\/one\/[^"#]+)/)![1];
    // A's per-process status table is warm (active) from this download.
    assert.equal((await get(`/py/${file}`)).status, 200);
    await other([{ op: 'action', repo: 'py', action: 'project-status', args: { package: 'one', status: 'quarantined', reason: 'bad' } }]);
    assert.equal((await get(`/py/${file}`)).status, 403);
    assert.match((await get('/py/simple/one/')).body.toString(), /<meta name="pypi:project-status" content="quarantined">/);
    await other([{ op: 'action', repo: 'py', action: 'project-status', args: { package: 'one', status: 'active' } }]);
    assert.equal((await get(`/py/${file}`)).status, 200);
  });
});
