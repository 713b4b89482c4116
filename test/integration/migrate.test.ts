// `wharf migrate` as an operator runs it: an installation on SQLite and files, filled by real
// clients (twine, curl, the API), stopped, moved into PostgreSQL and an S3-compatible bucket
// (s3rver) by the command in its own process, with the source directory hashed before and
// after; then `wharf serve --database --blobs` on a new data directory serves the same
// packages to pip, apt-get, pacman and curl with the signing keys and token of before.
// Also: a populated target is refused, a rerun uploads nothing again, a corrupt or missing
// blob stops the move naming it, and a running server's directory is refused.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { WharfClient } from '../../src/client/client.ts';
import { aptEnv, buildDeb, control, problems } from '../helpers/apt.ts';
import { pip, run, twineUpload } from '../helpers/clients.ts';
import { freshPostgresUrl } from '../helpers/engines.ts';
import { buildSdist, buildWheel, sdistFilename, wheelFilename } from '../helpers/python-dists.ts';
import { startS3, type TestS3 } from '../helpers/s3.ts';
import { MAIN, NODE, startServe, type ServeProcess } from '../helpers/serve-process.ts';
import { removeDir, tempDir } from '../unit/arch/fixtures.ts';
import { curl, keyring, pacman, tinyPackage, trustKey } from './arch-helpers.ts';

const PASSWORD = 'admin-migrate-secret';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const asRoot = process.getuid?.() === 0;

/** Every file under `dir` (but the lock) → its size, mtime and sha256; every directory → 'dir'. */
async function fingerprint(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const full = path.join(e.parentPath, e.name);
    const rel = path.relative(dir, full);
    // The data directory's lock (and the journal a killed holder leaves beside it) is not data.
    if (rel === 'wharf.lock' || rel === 'wharf.lock.json' || rel === 'wharf.lock-journal') continue;
    if (e.isDirectory()) out[rel] = 'dir';
    else {
      const st = await stat(full);
      out[rel] = `${st.size} ${st.mtimeMs} ${sha(await readFile(full))}`;
    }
  }
  return out;
}

interface Migrated { code: number; stdout: string; stderr: string; ms: number }

function wharfMigrate(args: string[], env: NodeJS.ProcessEnv): Promise<Migrated> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - t0 }));
  });
}

describe('wharf migrate: SQLite + files → PostgreSQL + S3', () => {
  let s3: TestS3;
  let dir: string;
  let data: string;
  let dbUrl: string;
  let serve: ServeProcess | null = null;
  let bucket: S3Client;
  let token: string;
  const blobsUrl = () => `s3://${s3.bucket}/moved`;
  const wheel = buildWheel({ name: 'moved-lib', version: '1.0', summary: 'moved to PostgreSQL' });
  let sdist: Buffer;
  const fileBody = Buffer.from(Array.from({ length: 150_000 }, (_, i) => (i * 7) % 256));
  const keys: { apt?: string; arch?: string; archFingerprint?: string } = {};

  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (serve && serve.child.exitCode === null) {
      serve.child.kill(signal);
      await serve.exited;
    }
    serve = null;
  };
  const objects = async (prefix: string) => {
    const keysOut: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const r = await bucket.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix, ContinuationToken }));
      keysOut.push(...(r.Contents ?? []).map((o) => o.Key!));
      ContinuationToken = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return keysOut;
  };

  before(async () => {
    s3 = await startS3();
    bucket = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
    dir = await tempDir('wharf-migrate-it-');
    data = path.join(dir, 'data');
    dbUrl = await freshPostgresUrl();
    sdist = await buildSdist({ name: 'moved-lib', version: '1.0', summary: 'moved to PostgreSQL' });
    // The source is SQLite on either pass of the suite (WHARF_TEST_DATABASE).
    serve = await startServe(data, { WHARF_ADMIN_PASSWORD: PASSWORD, WHARF_DATABASE_URL: '' });
    const url = await serve.ready;
    const admin = new WharfClient({ url, user: 'admin', password: PASSWORD });
    const auth = { authorization: basic('admin', PASSWORD) };

    // PyPI: a wheel and an sdist by twine; a proxy of that repository with the project cached.
    const files = [[wheelFilename({ name: 'moved-lib', version: '1.0' }), wheel], [sdistFilename({ name: 'moved-lib', version: '1.0' }), sdist]] as const;
    for (const [name, body] of files) await writeFile(path.join(dir, name), body);
    const up = await twineUpload(`${url}/pypi/`, 'admin', PASSWORD, files.map(([name]) => path.join(dir, name)));
    assert.equal(up.code, 0, up.stdout + up.stderr);
    await admin.createRepo({ name: 'pyproxy', format: 'pypi', kind: 'proxy', public: true, options: { upstream: `${url}/pypi/simple/`, metadataTtl: 0, timeout: 5 } });
    const cached = await pip(['download', '--no-deps', '--only-binary', ':all:', '--index-url', `${url}/pyproxy/simple/`, '-d', path.join(dir, 'pip-cache'), 'moved-lib']);
    assert.equal(cached.code, 0, cached.stdout + cached.stderr);

    // APT: a .deb PUT with curl -T.
    await admin.createRepo({ name: 'deb', format: 'apt', public: true });
    const deb = await buildDeb(dir, 'moved-hello', control('moved-hello', '1.0-1'));
    const put = await run('curl', ['-sS', '-f', '-u', `admin:${PASSWORD}`, '-T', deb, `${url}/deb/upload/stable/main/`]);
    assert.equal(put.code, 0, put.stderr);
    keys.apt = await (await fetch(`${url}/deb/key.asc`)).text();

    // Arch: a package by the API.
    await admin.createRepo({ name: 'arch', format: 'arch', public: true });
    const pkg = await tinyPackage(dir, { name: 'moved', version: '1.0-1' });
    assert.equal((await admin.upload('arch', pkg)).status, 'created');
    keys.arch = await (await fetch(`${url}/arch/key.asc`, { headers: auth })).text();
    const listed = await (await fetch(`${url}/-/api/v1/repositories/arch/keys`, { headers: auth })).json() as { keys: { fingerprint: string }[] };
    keys.archFingerprint = listed.keys[0].fingerprint;

    // Files: a private repository, a user with a token that may write to it.
    await admin.createRepo({ name: 'files', format: 'files', public: false });
    assert.equal((await fetch(`${url}/files/tools/data.bin`, { method: 'PUT', body: fileBody, headers: auth })).status, 201);
    await admin.createUser('ci', 'ci-password-123');
    await admin.grant('ci', 'files', 'write');
    token = (await new WharfClient({ url, user: 'ci', password: 'ci-password-123' }).createToken({ name: 'deploy', repos: ['files'], permission: 'write' })).token;

    // A running server's directory is refused.
    const locked = await wharfMigrate(['migrate', '--data', data, '--blobs', blobsUrl()], s3.env);
    assert.equal(locked.code, 1, locked.stderr);
    assert.match(locked.stderr, /^wharf: the data directory .* is in use by pid \d+ .*\(wharf serve\); stop it first$/m);
    // Killed, not stopped: a server that dies leaves its write-ahead log (a stopped one closes
    // the database and folds it back), the hard case for reading the source without touching it.
    await stop('SIGKILL');
  });

  after(async () => {
    await stop();
    bucket?.destroy();
    await s3?.close();
    if (dir) await removeDir(dir);
  });

  let migrated: Migrated;

  it('copies everything, leaving the source byte for byte as it was', async () => {
    const before = await fingerprint(data);
    assert.ok(Object.keys(before).includes('wharf.db') && Object.keys(before).some((f) => f.startsWith('blobs/')), JSON.stringify(before));
    // The server left its write-ahead log (rows not yet in wharf.db): the hard case for "untouched".
    assert.ok(Object.keys(before).includes('wharf.db-wal'), 'a write-ahead log to read without touching');
    migrated = await wharfMigrate(['--json', 'migrate', '--data', data, '--database', dbUrl, '--blobs', blobsUrl()], s3.env);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.deepEqual(await fingerprint(data), before, 'the source directory is unchanged');
    const summary = JSON.parse(migrated.stdout);
    assert.equal(summary.repositories, 5);
    assert.equal(summary.users, 2);
    assert.equal(summary.tokens, 1);
    assert.equal(summary.blobs.missing, 0);
    assert.equal(summary.blobs.copied, summary.blobs.total);
    assert.ok(summary.blobs.total >= 5, JSON.stringify(summary.blobs));
    assert.ok(!JSON.stringify(summary).includes(new URL(dbUrl).password || '\u0000'), 'no password in the summary');
    assert.match(migrated.stderr, /wharf migrate: files: \d+ rows/);
    process.stderr.write(`# migrate of the test installation: ${migrated.ms} ms (command: ${summary.seconds} s; ${summary.blobs.total} blobs, ${summary.files} files)\n`);

    // Every blob is in the bucket under its name, with the bytes of the source.
    // The source read from a copy (with its write-ahead log), so this check touches nothing either.
    const copy = path.join(dir, 'source-copy');
    await mkdir(copy);
    for (const f of ['wharf.db', 'wharf.db-wal']) await copyFile(path.join(data, f), path.join(copy, f)).catch(() => {});
    const src = new DatabaseSync(path.join(copy, 'wharf.db'));
    const client = new pg.Client({ connectionString: dbUrl });
    await client.connect();
    try {
      const shas = (src.prepare('SELECT sha256 FROM blobs ORDER BY sha256').all() as { sha256: string }[]).map((r) => r.sha256);
      const inBucket = (await objects('moved/')).map((k) => k.split('/').pop()).sort();
      assert.deepEqual(inBucket, shas);
      // Same rows, table by table, and bytes (index bodies, gzip, proxy cache) byte-identical.
      for (const t of ['repositories', 'packages', 'versions', 'files', 'blobs', 'users', 'grants', 'tokens', 'indexes', 'dirty_scopes', 'proxy_cache', 'sessions']) {
        const n = (src.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
        assert.equal(Number((await client.query(`SELECT COUNT(*) AS n FROM ${t}`)).rows[0].n), n, t);
      }
      // Settings (signing keys among them) as they were; the change feed starts afresh: no rows,
      // marked pruned up to where the copy's triggers left the sequence.
      const settings = (rows: { key: string; value: string }[]) => rows.filter((r) => r.key !== 'repo_changes:pruned').map((r) => `${r.key}=${r.value}`).sort();
      const dstSettings = (await client.query('SELECT key, value FROM settings')).rows;
      assert.deepEqual(settings(dstSettings), settings(src.prepare('SELECT key, value FROM settings').all() as never[]));
      assert.ok(settings(dstSettings).some((k) => k.includes('signing-keys')));
      assert.equal(Number((await client.query('SELECT COUNT(*) AS n FROM repo_changes')).rows[0].n), 0);
      const pruned = Number(dstSettings.find((r) => r.key === 'repo_changes:pruned')?.value);
      assert.equal(pruned, Number((await client.query('SELECT last_value FROM repo_changes_seq')).rows[0].last_value));
      const digest = (rows: { k: string; body: Uint8Array | null; gzip?: Uint8Array | null }[]) =>
        rows.map((r) => `${r.k} ${r.body ? sha(r.body) : '-'} ${r.gzip ? sha(r.gzip) : '-'}`).sort();
      const srcIdx = src.prepare("SELECT repo_id || ':' || key AS k, body, gzip FROM indexes").all() as never[];
      const dstIdx = (await client.query("SELECT repo_id || ':' || key AS k, body, gzip FROM indexes")).rows;
      assert.ok(srcIdx.length > 5);
      assert.deepEqual(digest(dstIdx), digest(srcIdx));
      const srcProxy = src.prepare("SELECT repo_id || ':' || key AS k, body FROM proxy_cache").all() as never[];
      assert.ok(srcProxy.length > 0, 'the proxy cached something');
      assert.deepEqual(digest((await client.query("SELECT repo_id || ':' || key AS k, body FROM proxy_cache")).rows), digest(srcProxy));
      const stats = (db: { packages: unknown; files: unknown; bytes: unknown; last_change: unknown; repo_id: unknown }[]) =>
        db.map((r) => `${r.repo_id} ${r.packages} ${r.files} ${r.bytes} ${r.last_change}`).sort();
      assert.deepEqual(stats((await client.query('SELECT * FROM repo_stats')).rows), stats(src.prepare('SELECT * FROM repo_stats').all() as never[]));
      const secrets = (src.prepare('SELECT name, password_hash FROM users ORDER BY name').all() as { name: string; password_hash: string }[]);
      assert.deepEqual((await client.query('SELECT name, password_hash FROM users ORDER BY name')).rows, secrets.map((r) => ({ ...r })));
    } finally {
      src.close();
      await client.end();
    }
  });

  it('a populated target is refused, naming what it holds', async () => {
    const r = await wharfMigrate(['migrate', '--data', data, '--database', dbUrl], {});
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^wharf: the target database already holds Wharf data: 5 rows in repositories \(arch, deb, files, pypi, pyproxy\); .*2 rows in users \(admin, ci\)/m);
  });

  it('a rerun to the same bucket uploads nothing again', async () => {
    const r = await wharfMigrate(['--json', 'migrate', '--data', data, '--blobs', blobsUrl()], s3.env);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.blobs.copied, 0);
    assert.equal(s.blobs.alreadyThere, s.blobs.total);
    assert.equal(s.tables, null, 'metadata stays in SQLite');
  });

  it('wharf serve on the migrated installation: pip, apt-get, pacman and curl, the token still works', async () => {
    serve = await startServe(path.join(dir, 'replica'), { ...s3.env }, ['--database', dbUrl, '--blobs', blobsUrl()]);
    const url = await serve.ready;

    const target = path.join(dir, 'pip-target');
    const r = await pip(['install', '--index-url', `${url}/pypi/simple/`, '--target', target, 'moved-lib']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok((await readdir(target)).includes('moved_lib-1.0.dist-info'));
    const page = await (await fetch(`${url}/pypi/simple/moved-lib/`)).text();
    const sdistName = sdistFilename({ name: 'moved-lib', version: '1.0' });
    const href = new RegExp(`href="([^"]*${sdistName.replace(/\./g, '\\.')})#sha256=${sha(sdist)}"`).exec(page);
    assert.ok(href, page);
    assert.equal(sha(Buffer.from(await (await fetch(new URL(href[1], `${url}/pypi/simple/moved-lib/`))).arrayBuffer())), sha(sdist));
    // The proxy serves what it had cached (its upstream, the old server, is gone).
    const viaProxy = await pip(['download', '--no-deps', '--only-binary', ':all:', '--index-url', `${url}/pyproxy/simple/`, '-d', path.join(dir, 'pip-proxy'), 'moved-lib']);
    assert.equal(viaProxy.code, 0, viaProxy.stdout + viaProxy.stderr);

    // apt-get with the key fetched before the move: the signing keys moved too.
    const aptKey = path.join(dir, 'deb.asc');
    await writeFile(aptKey, keys.apt!);
    const env = await aptEnv(path.join(dir, 'apt-after'), { url: `${url}/deb`, suite: 'stable', component: 'main', keyFile: aptKey });
    const update = await env.apt('apt-get', 'update', '-o', 'APT::Update::Error-Mode=any');
    assert.equal(update.code, 0, update.stdout + update.stderr);
    assert.deepEqual(problems(update), []);
    const install = await env.apt('apt-get', 'install', '-y', '--download-only', 'moved-hello');
    assert.equal(install.code, 0, install.stdout + install.stderr);
    assert.ok((await readdir(path.join(env.dir, 'cache/archives'))).some((f) => f.startsWith('moved-hello_1.0-1')));

    if (asRoot) {
      const gpgdir = await keyring(dir);
      const archKey = path.join(dir, 'arch.asc');
      await writeFile(archKey, keys.arch!);
      await trustKey(gpgdir, archKey, keys.archFingerprint!);
      const p = await pacman(path.join(dir, 'pacman'), gpgdir, 'moved', `${url}/arch/$arch`);
      await p.ok('-Sy', 'moved');
      assert.equal(await readFile(path.join(p.dir, 'root/usr/bin/moved'), 'utf8'), '#!/bin/sh\necho moved 1.0-1\n');
    }

    // The private file by curl with the token made before the move; then a new upload with it,
    // and new rows of every kind get fresh ids (the sequences went on after the copied ones).
    const out = path.join(dir, 'data.bin');
    const got = await curl(['-o', out, '-H', `Authorization: Bearer ${token}`, `${url}/files/tools/data.bin`]);
    assert.match(got.stdout, /200$/);
    assert.equal(sha(await readFile(out)), sha(fileBody));
    assert.match((await curl(['-o', '/dev/null', `${url}/files/tools/data.bin`])).stdout, /401$/);
    const newer = await curl(['-o', '/dev/null', '-H', `Authorization: Bearer ${token}`, '-T', out, `${url}/files/tools/again.bin`]);
    assert.match(newer.stdout, /201$/);
    const admin = new WharfClient({ url, user: 'admin', password: PASSWORD });
    await admin.createRepo({ name: 'after-move', format: 'files' });
    await admin.createUser('newcomer', 'newcomer-password');
    const name = wheelFilename({ name: 'moved-lib', version: '2.0' });
    await writeFile(path.join(dir, name), buildWheel({ name: 'moved-lib', version: '2.0' }));
    const up = await twineUpload(`${url}/pypi/`, 'admin', PASSWORD, [path.join(dir, name)]);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    assert.match(await (await fetch(`${url}/pypi/simple/moved-lib/`)).text(), /moved_lib-2\.0-py3-none-any\.whl/);
    await stop();
  });

  it('a corrupt blob stops the move, named with the files that use it, and is not uploaded', async () => {
    const h = sha(fileBody);
    const blobFile = path.join(data, 'blobs', h.slice(0, 2), h.slice(2, 4), h);
    const original = await readFile(blobFile);
    const bad = Buffer.from(original);
    bad[1000] ^= 0xff;
    await writeFile(blobFile, bad);
    try {
      const fresh = await freshPostgresUrl();
      const r = await wharfMigrate(['migrate', '--data', data, '--database', fresh, '--blobs', `s3://${s3.bucket}/corrupt`], s3.env);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^wharf: blob ${h} is corrupt: its 150000 bytes hash to ${sha(bad)}; it was not copied\\. Files naming it: files/tools/data\\.bin\\.`, 'm'));
      assert.ok(!(await objects('corrupt/')).some((k) => k.endsWith(h)), 'the corrupt blob is not in the bucket');
      const client = new pg.Client({ connectionString: fresh });
      await client.connect();
      try {
        assert.equal(Number((await client.query('SELECT COUNT(*) AS n FROM repositories')).rows[0].n), 0, 'no metadata was written');
      } finally {
        await client.end();
      }
    } finally {
      await writeFile(blobFile, original);
    }
  });

  it('a missing blob stops the move unless --allow-missing, which names it', async () => {
    const h = sha(fileBody);
    const blobFile = path.join(data, 'blobs', h.slice(0, 2), h.slice(2, 4), h);
    const original = await readFile(blobFile);
    await run('rm', [blobFile]);
    try {
      const stopped = await wharfMigrate(['migrate', '--data', data, '--blobs', `s3://${s3.bucket}/missing`], s3.env);
      assert.equal(stopped.code, 1, stopped.stderr);
      assert.match(stopped.stderr, new RegExp(`^wharf: 1 blob is missing from the source: ${h} \\(files/tools/data\\.bin\\)`, 'm'));
      const allowed = await wharfMigrate(['migrate', '--data', data, '--blobs', `s3://${s3.bucket}/missing`, '--allow-missing'], s3.env);
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.match(allowed.stdout, /1 MISSING/);
      assert.match(allowed.stdout, new RegExp(`missing: ${h} \\(files/tools/data\\.bin\\)`));
    } finally {
      await writeFile(blobFile, original);
    }
  });

  it('usage: no target is exit 2; a source of another schema version is refused', async () => {
    const none = await wharfMigrate(['migrate', '--data', data], { WHARF_DATABASE_URL: '', WHARF_BLOBS: '' });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /nothing to migrate to/);
    const old = path.join(dir, 'old');
    await run('mkdir', ['-p', old]);
    const db = new DatabaseSync(path.join(old, 'wharf.db'));
    db.exec('PRAGMA user_version = 3');
    db.close();
    const r = await wharfMigrate(['migrate', '--data', old, '--database', await freshPostgresUrl()], {});
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /is at schema version 3, older than this Wharf's \(\d+\): start this Wharf on it once/);
  });
});
