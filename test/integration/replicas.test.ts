// Several replicas on one PostgreSQL database and one S3 bucket, behind nginx (issue 11, item
// 4; docs/scale-out.md "Several replicas"), driven by the real clients:
// - replicas started together on an empty database all come up, with one admin and the
//   declared repositories;
// - what twine, curl and the API upload through replica A, pip, apt-get and pacman install
//   through replica B at once, and the reverse;
// - a scheduled mirror sync declared once runs once with three replicas;
// - kill -9 of one replica during mixed uploads and installs through nginx loses no
//   acknowledged upload, shows no client an index listing a file it cannot download, and the
//   others carry on (WHARF_REPLICA_SECONDS: how long, default 30);
// - gc on one replica during uploads on another frees nothing referenced.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { aptEnv, buildDeb, control, problems } from '../helpers/apt.ts';
import { pip, run, twineUpload, type RunResult } from '../helpers/clients.ts';
import { sharedPostgres } from '../helpers/engines.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { NGINX, nginxConf, REPLICA_PASSWORD, replicaAuth, startReplicas, type Replica, type ReplicaSet } from '../helpers/replicas.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { keyring, pacman, tinyPackage, trustKey } from './arch-helpers.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SECONDS = Number(process.env.WHARF_REPLICA_SECONDS ?? 30);
const isRoot = process.getuid?.() === 0;

async function pypiUpload(base: string, name: string, version: string): Promise<{ status: number; file: string; sha256: string }> {
  const file = wheelFilename({ name, version });
  const body = buildWheel({ name, version, summary: `${name} ${version}` });
  const form = new FormData();
  form.set(':action', 'file_upload');
  form.set('protocol_version', '1');
  form.set('content', new Blob([body]), file);
  const res = await fetch(`${base}/pypi/`, { method: 'POST', body: form, headers: { authorization: replicaAuth } });
  await res.arrayBuffer();
  return { status: res.status, file, sha256: sha(body) };
}

async function put(url: string, body: Uint8Array): Promise<number> {
  const res = await fetch(url, { method: 'PUT', body, headers: { authorization: replicaAuth } });
  await res.arrayBuffer();
  return res.status;
}

/** GET, with the body's sha256; a connection error is status 0. */
async function download(url: string): Promise<{ status: number; sha256: string; error?: string }> {
  try {
    const res = await fetch(url);
    const body = new Uint8Array(await res.arrayBuffer());
    return { status: res.status, sha256: sha(body) };
  } catch (err) {
    return { status: 0, sha256: '', error: (err as Error).cause ? String((err as Error).cause) : (err as Error).message };
  }
}

describe('several replicas on PostgreSQL and S3 behind nginx', { timeout: 600_000 }, () => {
  let set: ReplicaSet;
  let upstream: TestServer;
  let dir: string;
  let A: Replica;
  let B: Replica;
  let C: Replica;
  let debKey: string;
  let archGpg: string;
  const leaf = buildWheel({ name: 'leaf', version: '1.0' });

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-replicas-it-'));
    // The mirror's upstream: another Wharf, whose hosted repository holds what is mirrored.
    upstream = await startServer();
    const form = new FormData();
    form.set(':action', 'file_upload');
    form.set('protocol_version', '1');
    form.set('content', new Blob([leaf]), wheelFilename({ name: 'leaf', version: '1.0' }));
    const up = await fetch(`${upstream.url}/pypi/`, { method: 'POST', body: form, headers: { authorization: upstream.adminAuth } });
    assert.equal(up.status, 200, await up.text());
    set = await startReplicas(3, {
      // The scheduler looks for due jobs every 300 ms instead of 30 s (for tests only).
      env: { WHARF_SCHEDULER_TICK_MS: '300' },
      config: {
        repositories: [
          { name: 'pypi', format: 'pypi', kind: 'hosted', public: true },
          { name: 'deb', format: 'apt', kind: 'hosted', public: true },
          { name: 'arch', format: 'arch', kind: 'hosted', public: true },
          // No time-travel history: gc frees the blobs of files deleted during the gc test at once.
          { name: 'files', format: 'files', kind: 'hosted', public: true, options: { historyDays: 0 } },
          { name: 'mirror', format: 'pypi', kind: 'proxy', public: true, options: { upstream: `${upstream.url}/pypi/simple/`, mirror: { specs: ['leaf==1.0'], everyMinutes: 60 } } },
          { name: 'debs', format: 'apt', kind: 'group', public: true, options: { members: ['deb'] } },
          { name: 'archs', format: 'arch', kind: 'group', public: true, options: { members: ['arch'] } },
        ],
      },
    });
    [A, B, C] = set.replicas;
    debKey = path.join(dir, 'deb.asc');
    await writeFile(debKey, await (await fetch(`${set.url}/deb/key.asc`)).text());
    if (isRoot) {
      archGpg = await keyring(dir);
      const keyFile = path.join(dir, 'arch.asc');
      await writeFile(keyFile, await (await fetch(`${set.url}/arch/key.asc`)).text());
      const { keys } = await (await fetch(`${set.url}/-/api/v1/repositories/arch/keys`, { headers: { authorization: replicaAuth } })).json() as { keys: { fingerprint: string }[] };
      await trustKey(archGpg, keyFile, keys[0].fingerprint);
    }
  });
  after(async () => {
    await set?.close();
    await upstream?.close();
    await (await sharedPostgres()).close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('replicas started together on an empty database all serve, with one admin and the declared repositories', async () => {
    for (const r of set.replicas) {
      const res = await fetch(`${r.url}/-/api/v1/repositories`, { headers: { authorization: replicaAuth } });
      assert.equal(res.status, 200, r.name);
      const { repositories } = await res.json() as { repositories: { name: string }[] };
      assert.deepEqual(repositories.map((x) => x.name).sort(), ['arch', 'archs', 'deb', 'debs', 'files', 'mirror', 'pypi']);
      const users = await (await fetch(`${r.url}/-/api/v1/users`, { headers: { authorization: replicaAuth } })).json() as { users: { name: string }[] };
      assert.deepEqual(users.users.map((u) => u.name), ['admin']);
    }
    // One signing key per repository, the same on every replica.
    for (const repo of ['deb', 'debs', 'archs']) {
      const keys = await Promise.all(set.replicas.map(async (r) => (await fetch(`${r.url}/${repo}/key.asc`)).text()));
      assert.ok(keys.every((k) => k === keys[0] && k.includes('BEGIN PGP PUBLIC KEY BLOCK')), repo);
    }
  });

  it("an upload through A is in the APT and Arch groups' merged indexes on every replica at once", async () => {
    const deb = await buildDeb(dir, 'group-deb', control('group-deb', '1.0-1'));
    const first = await buildDeb(dir, 'group-first', control('group-first', '1.0-1'));
    assert.equal((await run('curl', ['-sS', '-f', '-u', `admin:${REPLICA_PASSWORD}`, '-T', first, `${A.url}/deb/upload/stable/main/`])).code, 0);
    // Each replica merges once before the upload, so a stale merge would show.
    for (const r of set.replicas) assert.equal((await download(`${r.url}/debs/dists/stable/InRelease`)).status, 200);
    if (isRoot) for (const r of set.replicas) await download(`${r.url}/archs/x86_64/archs.db`);
    assert.equal((await run('curl', ['-sS', '-f', '-u', `admin:${REPLICA_PASSWORD}`, '-T', deb, `${A.url}/deb/upload/stable/main/`])).code, 0);
    const pkg = isRoot ? await tinyPackage(dir, { name: 'group-pkg', version: '1.0-1' }) : '';
    if (pkg) assert.equal(await put(`${A.url}/arch/upload/${path.basename(pkg)}`, await readFile(pkg)), 201);
    for (const r of set.replicas) {
      const packages = await (await fetch(`${r.url}/debs/dists/stable/main/binary-amd64/Packages`)).text();
      assert.match(packages, /^Package: group-deb$/m, r.name);
      if (pkg) {
        const db = await (await fetch(`${r.url}/archs/x86_64/archs.db`)).arrayBuffer();
        const { readRepoDb } = await import('../../src/formats/arch/db-archive.ts');
        assert.ok((await readRepoDb(new Uint8Array(db))).has('group-pkg-1.0-1'), r.name);
      }
    }
  });

  it('uploads through A are installed through B at once by pip, apt-get and pacman; B\'s next upload is what A serves', async () => {
    const wheelFile = path.join(dir, wheelFilename({ name: 'twin-lib', version: '1.0' }));
    await writeFile(wheelFile, buildWheel({ name: 'twin-lib', version: '1.0' }));
    const deb1 = await buildDeb(dir, 'twin-deb-1', control('twin-deb', '1.0-1'));
    const pkg1 = isRoot ? await tinyPackage(dir, { name: 'twin-pkg', version: '1.0-1' }) : '';
    const aptB = await aptEnv(path.join(dir, 'apt-b'), { url: `${B.url}/deb`, suite: 'stable', component: 'main', keyFile: debKey });
    const pacB = isRoot ? await pacman(path.join(dir, 'pacman-b'), archGpg, 'arch', `${B.url}/arch/$arch`) : null;

    // Through A: twine, curl -T of a .deb, a PUT of an Arch package.
    const tw = await twineUpload(`${A.url}/pypi/`, 'admin', REPLICA_PASSWORD, [wheelFile]);
    assert.equal(tw.code, 0, tw.stdout + tw.stderr);
    const deb = await run('curl', ['-sS', '-f', '-u', `admin:${REPLICA_PASSWORD}`, '-T', deb1, `${A.url}/deb/upload/stable/main/`]);
    assert.equal(deb.code, 0, deb.stderr);
    if (pkg1) assert.equal(await put(`${A.url}/arch/upload/${path.basename(pkg1)}`, await readFile(pkg1)), 201);

    // Through B, right after A's acknowledgements (no sleep), all at once.
    const target = path.join(dir, 'pip-b');
    const [pipB, aptOut, pacOut] = await Promise.all([
      pip(['install', '--index-url', `${B.url}/pypi/simple/`, '--target', target, 'twin-lib']),
      (async () => {
        const u = await aptB.apt('apt-get', 'update');
        return u.code === 0 && problems(u).length === 0 ? aptB.apt('apt-get', 'install', '-y', '--download-only', 'twin-deb') : u;
      })(),
      pacB ? pacB.run('-Sy', 'twin-pkg') : Promise.resolve(null),
    ]);
    assert.equal(pipB.code, 0, pipB.stdout + pipB.stderr);
    assert.ok((await readdir(target)).includes('twin_lib-1.0.dist-info'));
    assert.equal(aptOut.code, 0, aptOut.stdout + aptOut.stderr);
    assert.deepEqual(problems(aptOut), []);
    assert.ok((await readdir(path.join(aptB.dir, 'cache/archives'))).includes('twin-deb_1.0-1_amd64.deb'));
    if (pacB) {
      assert.equal(pacOut!.code, 0, pacOut!.stdout + pacOut!.stderr);
      assert.equal(await readFile(path.join(pacB.dir, 'root/usr/bin/twin-pkg'), 'utf8'), '#!/bin/sh\necho twin-pkg 1.0-1\n');
    }

    // A new version through B; A serves it next, to clients that have seen version 1 from A.
    const aptA = await aptEnv(path.join(dir, 'apt-a'), { url: `${A.url}/deb`, suite: 'stable', component: 'main', keyFile: debKey });
    assert.equal((await aptA.apt('apt-get', 'update')).code, 0);
    const pacA = isRoot ? await pacman(path.join(dir, 'pacman-a'), archGpg, 'arch', `${A.url}/arch/$arch`) : null;
    if (pacA) await pacA.ok('-Sy', 'twin-pkg');
    const v2 = path.join(dir, wheelFilename({ name: 'twin-lib', version: '2.0' }));
    await writeFile(v2, buildWheel({ name: 'twin-lib', version: '2.0' }));
    const tw2 = await twineUpload(`${B.url}/pypi/`, 'admin', REPLICA_PASSWORD, [v2]);
    assert.equal(tw2.code, 0, tw2.stdout + tw2.stderr);
    const deb2 = await buildDeb(dir, 'twin-deb-2', control('twin-deb', '2.0-1'));
    assert.equal((await run('curl', ['-sS', '-f', '-u', `admin:${REPLICA_PASSWORD}`, '-T', deb2, `${B.url}/deb/upload/stable/main/`])).code, 0);
    const pkg2 = isRoot ? await tinyPackage(dir, { name: 'twin-pkg', version: '2.0-1' }) : '';
    if (pkg2) assert.equal(await put(`${B.url}/arch/upload/${path.basename(pkg2)}`, await readFile(pkg2)), 201);

    const target2 = path.join(dir, 'pip-a');
    const [pipA, aptUpgrade, pacUpgrade] = await Promise.all([
      pip(['install', '--index-url', `${A.url}/pypi/simple/`, '--target', target2, 'twin-lib']),
      (async () => {
        const u = await aptA.apt('apt-get', 'update');
        return u.code === 0 && problems(u).length === 0 ? aptA.apt('apt-cache', 'policy', 'twin-deb') : u;
      })(),
      pacA ? pacA.run('-Syu') : Promise.resolve(null),
    ]);
    assert.equal(pipA.code, 0, pipA.stdout + pipA.stderr);
    assert.ok((await readdir(target2)).includes('twin_lib-2.0.dist-info'));
    assert.match(aptUpgrade.stdout, /Candidate: 2\.0-1/, aptUpgrade.stdout + aptUpgrade.stderr);
    if (pacA) {
      assert.equal(pacUpgrade!.code, 0, pacUpgrade!.stdout + pacUpgrade!.stderr);
      assert.equal(await readFile(path.join(pacA.dir, 'root/usr/bin/twin-pkg'), 'utf8'), '#!/bin/sh\necho twin-pkg 2.0-1\n');
    }
  });

  it('a mirror sync declared once runs once with three replicas', async () => {
    // Every replica read the same declaration and ticks every 300 ms: one of them takes the job.
    const fileRequests = () => upstream.requests.filter((r) => r.url.includes('/packages/') && r.url.endsWith('.whl'));
    const pageRequests = () => upstream.requests.filter((r) => /\/simple\/leaf\/?$/.test(r.url));
    const deadline = Date.now() + 60_000;
    while (fileRequests().length === 0 && Date.now() < deadline) await sleep(100);
    assert.equal(fileRequests().length, 1, 'the upstream was asked for the wheel');
    // Some twenty more ticks on each replica: nobody runs it again within everyMinutes.
    await sleep(6000);
    assert.equal(fileRequests().length, 1, `the wheel was fetched once: ${JSON.stringify(upstream.requests)}`);
    assert.equal(pageRequests().length, 1, `the project page was read once: ${JSON.stringify(upstream.requests)}`);
    // The mirrored wheel is in the shared store: every replica serves it without the upstream.
    for (const r of set.replicas) {
      const page = await (await fetch(`${r.url}/mirror/simple/leaf/`, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } })).json() as { files: { url: string; hashes: { sha256: string } }[] };
      assert.equal(page.files.length, 1, r.name);
      assert.equal(page.files[0].hashes.sha256, sha(leaf));
      const got = await download(new URL(page.files[0].url, `${r.url}/mirror/simple/leaf/`).href);
      assert.deepEqual([got.status, got.sha256], [200, sha(leaf)], r.name);
    }
    assert.equal(fileRequests().length, 1, 'served from the mirror, not fetched again');
  });

  it(`kill -9 of a replica during ${SECONDS} s of mixed uploads and installs through nginx loses nothing acknowledged`, async () => {
    const lb = set.url;
    const work = path.join(dir, 'kill');
    await mkdir(work, { recursive: true });
    interface Acked { kind: string; url: string; sha256: string; index: () => Promise<boolean> }
    const acked: Acked[] = [];
    const counts = { uploads: 0, acknowledged: 0, reads: 0, uploadsAfterKill: 0, readsAfterKill: 0 };
    const failures: Record<string, number> = {};
    const violations: string[] = [];
    const samples: Record<string, string> = {};
    const fail = (kind: string, detail = '') => {
      failures[kind] = (failures[kind] ?? 0) + 1;
      if (detail) samples[kind] ??= detail.slice(0, 300);
    };
    let killedAt = 0;
    let stop = false;
    const t0 = Date.now();
    const ack = (a: Acked) => {
      acked.push(a);
      counts.acknowledged++;
      if (killedAt) counts.uploadsAfterKill++;
    };
    const readOk = () => { counts.reads++; if (killedAt) counts.readsAfterKill++; };

    const uploaders = [
      async () => { // PyPI, multipart POST as twine sends it
        for (let i = 0; !stop; i++) {
          counts.uploads++;
          const name = `kill-py-${i}`;
          const r = await pypiUpload(lb, name, '1.0').catch(() => ({ status: 0, file: '', sha256: '' }));
          if (r.status !== 200) { fail(`upload pypi HTTP ${r.status}`); continue; }
          ack({ kind: 'pypi', url: `/pypi/packages/${name}/${r.file}`, sha256: r.sha256, index: async () => (await fetch(`${lb}/pypi/simple/${name}/`).then((x) => x.text())).includes(r.file) });
        }
      },
      async () => { // APT, a PUT of a .deb built by dpkg-deb
        for (let i = 0; !stop; i++) {
          const name = `kill-deb-${i}`;
          const file = await buildDeb(work, name, control(name, '1.0-1'));
          const bytes = await readFile(file);
          counts.uploads++;
          const status = await put(`${lb}/deb/upload/stable/main/${name}_1.0-1_amd64.deb`, bytes).catch(() => 0);
          if (status !== 201 && status !== 200) { fail(`upload deb HTTP ${status}`); continue; }
          ack({ kind: 'deb', url: `/deb/pool/main/k/${name}/${name}_1.0-1_amd64.deb`, sha256: sha(bytes), index: async () => (await fetch(`${lb}/deb/dists/stable/main/binary-amd64/Packages`).then((x) => x.text())).includes(`Package: ${name}\n`) });
        }
      },
      async () => { // Arch, a PUT of a package
        if (!isRoot) return;
        for (let i = 0; !stop; i++) {
          const name = `kill-pkg-${i}`;
          const file = await tinyPackage(work, { name, version: '1.0-1' });
          const bytes = await readFile(file);
          counts.uploads++;
          const status = await put(`${lb}/arch/upload/${path.basename(file)}`, bytes).catch(() => 0);
          // 200: "exists", the same bytes: nginx sent the PUT (idempotent) again to another replica.
          if (status !== 201 && status !== 200) { fail(`upload arch HTTP ${status}`); continue; }
          ack({ kind: 'arch', url: `/arch/x86_64/${path.basename(file)}`, sha256: sha(bytes), index: async () => true });
        }
      },
      async () => { // files, a PUT of random bytes
        for (let i = 0; !stop; i++) {
          const bytes = randomBytes(2000 + (i % 7) * 50_000);
          counts.uploads++;
          const status = await put(`${lb}/files/kill/${i}.bin`, bytes).catch(() => 0);
          if (status !== 201 && status !== 200) { fail(`upload files HTTP ${status}`); continue; }
          ack({ kind: 'files', url: `/files/kill/${i}.bin`, sha256: sha(bytes), index: async () => true });
        }
      },
    ];

    // What a client reads must be downloadable: a 404 (or wrong bytes) for a file an index
    // lists is a violation; a connection cut when the replica died is a failure of its own kind.
    const pick = () => acked[Math.floor(Math.random() * acked.length)];
    const readers = [
      async () => { // index reads and downloads with fetch: PyPI JSON pages, APT Packages
        while (!stop) {
          const which = Math.random();
          try {
            if (which < 0.5) {
              const py = acked.filter((a) => a.kind === 'pypi');
              if (!py.length) { await sleep(50); continue; }
              const a = py[Math.floor(Math.random() * py.length)];
              const pageUrl = `${lb}${path.posix.dirname(a.url).replace('/packages/', '/simple/')}/`;
              const page = await fetch(pageUrl, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } });
              if (page.status !== 200) { (page.status === 404 ? violations.push(`${pageUrl} ${page.status}`) : fail(`read page HTTP ${page.status}`)); continue; }
              const json = await page.json() as { files: { url: string; hashes: { sha256: string } }[] };
              if (json.files.length === 0) violations.push(`${pageUrl} lists nothing after the upload was acknowledged`);
              for (const f of json.files) {
                const got = await download(new URL(f.url, pageUrl).href);
                if (got.status === 200 && got.sha256 === f.hashes.sha256) readOk();
                else if (got.status === 404 || got.status === 200) violations.push(`${f.url}: listed by ${pageUrl}, got ${got.status}`);
                else fail(`download ${got.status || got.error}`);
              }
            } else {
              const pk = await fetch(`${lb}/deb/dists/stable/main/binary-amd64/Packages`);
              if (pk.status !== 200) { fail(`read Packages HTTP ${pk.status}`); continue; }
              const stanzas = (await pk.text()).split('\n\n').filter((s) => s.includes('Filename: '));
              for (const s of stanzas.sort(() => Math.random() - 0.5).slice(0, 3)) {
                const filename = /^Filename: (.+)$/m.exec(s)![1];
                const want = /^SHA256: (.+)$/m.exec(s)![1];
                const got = await download(`${lb}/deb/${filename}`);
                if (got.status === 200 && got.sha256 === want) readOk();
                else if (got.status === 404 || got.status === 200) violations.push(`deb/${filename}: listed by Packages, got ${got.status}`);
                else fail(`download ${got.status || got.error}`);
              }
            }
          } catch (err) {
            fail(`read ${(err as Error).message}`);
          }
        }
      },
      async () => { // downloads of acknowledged files with fetch (curl's role): the bytes uploaded
        while (!stop) {
          if (!acked.length) { await sleep(50); continue; }
          const a = pick();
          const got = await download(`${lb}${a.url}`);
          if (got.status === 200 && got.sha256 === a.sha256) readOk();
          else if (got.status === 404 || got.status === 200) violations.push(`${a.url}: acknowledged, got ${got.status}`);
          else fail(`download ${got.status || got.error}`);
        }
      },
      async () => { // pip download of an acknowledged project: the index, then the file
        for (let i = 0; !stop; i++) {
          const py = acked.filter((a) => a.kind === 'pypi');
          if (!py.length) { await sleep(100); continue; }
          const a = py[Math.floor(Math.random() * py.length)];
          const name = a.url.split('/')[3];
          const r = await pip(['download', '--no-deps', '-d', path.join(work, `pip-${i}`), '--index-url', `${lb}/pypi/simple/`, name]);
          if (r.code === 0) readOk();
          else if (/404|No matching distribution|hash/i.test(r.stderr)) violations.push(`pip download ${name}: ${r.stderr.trim().split('\n').pop()}`);
          else fail('pip download', r.stderr.trim().split('\n').pop());
        }
      },
      async () => { // apt-get update and a download of an acknowledged .deb
        const env = await aptEnv(path.join(work, 'apt'), { url: `${lb}/deb`, suite: 'stable', component: 'main', keyFile: debKey });
        while (!stop) {
          const debs = acked.filter((a) => a.kind === 'deb');
          if (!debs.length) { await sleep(100); continue; }
          const u = await env.apt('apt-get', 'update', '-o', 'APT::Update::Error-Mode=any');
          if (u.code !== 0 || problems(u).length) { classifyApt(u); continue; }
          const name = debs[Math.floor(Math.random() * debs.length)].url.split('/')[5];
          const d = await env.apt('apt-get', 'install', '-y', '--download-only', name);
          if (d.code === 0) readOk(); else classifyApt(d);
        }
      },
      async () => { // pacman -Sy and a download of an acknowledged package
        if (!isRoot) return;
        const p = await pacman(path.join(work, 'pacman'), archGpg, 'arch', `${lb}/arch/$arch`);
        while (!stop) {
          const pkgs = acked.filter((a) => a.kind === 'arch');
          if (!pkgs.length) { await sleep(100); continue; }
          const name = /kill-pkg-\d+/.exec(pkgs[Math.floor(Math.random() * pkgs.length)].url)![0];
          let r = await p.run('-Syw', name);
          // pacman reads the db, then its .sig, in two requests: an upload published in between
          // (on any replica, or on one server) pairs a db with the next generation's signature.
          // Pacman's protocol, not a replica's: asked again, the pair matches.
          for (let again = 0; again < 3 && r.code !== 0 && /signature from .* is invalid/.test(r.stdout + r.stderr); again++) {
            fail('pacman db and .sig of two generations');
            r = await p.run('-Syw', name);
          }
          if (r.code === 0) readOk();
          else if (/404|not found|corrupted|invalid/i.test(r.stdout + r.stderr)) violations.push(`pacman -Syw ${name}: ${(r.stdout + r.stderr).trim().split('\n').slice(-3).join(' / ')}`);
          else fail('pacman', (r.stdout + r.stderr).trim().split('\n').slice(-2).join(' / '));
        }
      },
    ];
    function classifyApt(r: RunResult) {
      const out = `${r.stdout}\n${r.stderr}`;
      if (/404\s+Not Found|Hash Sum mismatch|File has unexpected size|Release file .* is not valid/i.test(out)) violations.push(`apt-get: ${problems(r).join(' / ')}`);
      else fail('apt-get', problems(r).join(' / ') || out.trim().split('\n').slice(-2).join(' / '));
    }

    const killer = (async () => {
      await sleep((SECONDS * 1000) / 3);
      await B.kill9();
      killedAt = Date.now();
    })();
    const timer = setTimeout(() => { stop = true; }, SECONDS * 1000);
    await Promise.all([...uploaders, ...readers].map((w) => w()));
    clearTimeout(timer);
    await killer;

    // Every acknowledged upload, from each surviving replica directly and through nginx.
    let lost = 0;
    for (const a of acked) {
      for (const base of [A.url, C.url, lb]) {
        const got = await download(`${base}${a.url}`);
        if (got.status !== 200 || got.sha256 !== a.sha256) { lost++; violations.push(`${base}${a.url}: ${got.status} after the run`); }
      }
      if (!(await a.index())) violations.push(`${a.url} is not in its index after the run`);
    }
    const elapsed = (Date.now() - t0) / 1000;
    const byKind = Object.fromEntries(['pypi', 'deb', 'arch', 'files'].map((k) => [k, acked.filter((a) => a.kind === k).length]));
    const upstreamLines = (await set.accessLog()).split('\n').filter(Boolean);
    const perReplica = Object.fromEntries(set.replicas.map((r) => [r.name, upstreamLines.filter((l) => l.includes(`127.0.0.1:${r.port}`)).length]));
    const figures = { seconds: Math.round(elapsed), killedAfterSeconds: Math.round((killedAt - t0) / 1000), ...counts, acknowledgedByKind: byKind, lost, failures, samples, violations: violations.length, nginxRequestsPerReplica: perReplica };
    process.stdout.write(`# replicas kill -9 figures: ${JSON.stringify(figures)}\n`);
    assert.deepEqual(violations, []);
    assert.equal(lost, 0);
    assert.ok(counts.uploadsAfterKill > 0 && counts.readsAfterKill > 0, `the other replicas carried on: ${JSON.stringify(counts)}`);
    assert.ok(A.alive() && C.alive(), 'A and C still run');
  });

  // The small grace: 1 s. A blob committed again (the same bytes re-uploaded after a delete)
  // keeps its old commit time until its copy-onto-itself lands, so gc on another replica may
  // judge it stale in between; what only a grace period protects (docs/scale-out.md).
  for (const grace of [undefined, 1]) {
    const tag = grace === undefined ? 'default' : `g${grace}`;
    it(`gc on one replica during uploads on another frees nothing referenced (grace: ${grace === undefined ? 'default' : `${grace} s`})`, async (t) => {
      // B is gone (the previous test); C uploads, A collects. Deleted files leave blobs for gc
      // to free, and some of those bytes are uploaded again under new names.
      const uploaded: { url: string; sha256: string }[] = [];
      const deleted: { bytes: Buffer; at: number }[] = [];
      const uploadFailures: string[] = [];
      let stop = false;
      let gcRuns = 0;
      let freed = 0;
      let reuploads = 0;
      const uploader = async (w: number) => {
        for (let i = 0; !stop; i++) {
          const url = `/files/gc-${tag}/${w}-${i}.bin`;
          const old = deleted.findIndex((d) => Date.now() - d.at > 1200);
          const bytes = old >= 0 && i % 2 ? deleted.splice(old, 1)[0].bytes : randomBytes(1000 + (i % 5) * 30_000);
          if (old >= 0 && i % 2) reuploads++;
          const status = await put(`${C.url}${url}`, bytes).catch(() => 0);
          if (status !== 201) { uploadFailures.push(`PUT ${url}: ${status}`); continue; }
          if (i % 3 === 0) {
            const del = await fetch(`${C.url}${url}`, { method: 'DELETE', headers: { authorization: replicaAuth } });
            if (del.status !== 204) uploadFailures.push(`DELETE ${url}: ${del.status}`);
            deleted.push({ bytes, at: Date.now() });
          } else {
            uploaded.push({ url, sha256: sha(bytes) });
          }
          if (w === 0) {
            const py = await pypiUpload(C.url, `gc-${tag}-${i}`, '1.0').catch(() => ({ status: 0, file: '', sha256: '' }));
            if (py.status !== 200) uploadFailures.push(`pypi gc-${tag}-${i}: ${py.status}`);
            else uploaded.push({ url: `/pypi/packages/gc-${tag}-${i}/${py.file}`, sha256: py.sha256 });
          }
        }
      };
      const gc = (async () => {
        while (!stop) {
          const res = await fetch(`${A.url}/-/api/v1/gc${grace === undefined ? '' : `?graceSeconds=${grace}`}`, { method: 'POST', headers: { authorization: replicaAuth } });
          if (res.status !== 200) throw new Error(`gc: HTTP ${res.status} ${await res.text()}`);
          freed += (await res.json() as { blobs: number }).blobs;
          gcRuns++;
        }
      })();
      const timer = setTimeout(() => { stop = true; }, 10_000);
      try {
        await Promise.all([uploader(0), uploader(1), uploader(2), gc]);
      } finally {
        stop = true;
        clearTimeout(timer);
      }
      const missing: string[] = [];
      for (const u of uploaded) {
        for (const base of [A.url, C.url]) {
          const got = await download(`${base}${u.url}`);
          if (got.status !== 200 || got.sha256 !== u.sha256) missing.push(`${base}${u.url}: ${got.status}`);
        }
      }
      const figures = { uploads: uploaded.length, reuploads, gcRuns, freed, uploadFailures: uploadFailures.length, missing: missing.length };
      t.diagnostic(JSON.stringify(figures));
      process.stdout.write(`# replicas gc figures (grace ${tag}): ${JSON.stringify(figures)}\n`);
      assert.ok(gcRuns > 1, 'gc ran during the uploads');
      if (grace !== undefined) assert.ok(freed > 0, 'gc freed the deleted files\' blobs: it had work to do');
      assert.deepEqual(uploadFailures, []);
      assert.deepEqual(missing, []);
    });
  }
});

describe('docs/scale-out.md: the compose file and the nginx configuration', () => {
  it('docker-compose reads the compose file; nginx -t accepts the configuration, the one the tests run', async () => {
    const doc = await readFile(path.join(import.meta.dirname, '../../docs/scale-out.md'), 'utf8');
    const block = (lang: string) => new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'm').exec(doc)![1];
    const d = await mkdtemp(path.join(tmpdir(), 'wharf-scale-doc-'));
    try {
      await writeFile(path.join(d, 'compose.yaml'), block('yaml'));
      await writeFile(path.join(d, 'wharf.json'), block('json'));
      const compose = await run('docker-compose', ['-f', path.join(d, 'compose.yaml'), 'config'], {
        env: { PATH: process.env.PATH, WHARF_ADMIN_PASSWORD: 'a', POSTGRES_PASSWORD: 'b', MINIO_ROOT_PASSWORD: 'c' },
      });
      assert.equal(compose.code, 0, compose.stderr);
      assert.match(compose.stdout, /wharf-b:/);
      // The doc's nginx.conf with the tests' addresses: the same proxy settings as nginxConf().
      const conf = block('nginx');
      const tested = nginxConf(d, 1, ['127.0.0.1:1']);
      const proxyLines = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => /^(proxy_(?!temp_path)|client_max_body_size|keepalive )/.test(l));
      assert.deepEqual(proxyLines(conf), proxyLines(tested));
      await mkdir(path.join(d, 'logs'), { recursive: true });
      await writeFile(path.join(d, 'nginx.conf'), conf.replace(/wharf-[ab]:8080/g, '127.0.0.1:1').replace('listen 80;', 'listen 127.0.0.1:1;'));
      const t = await run(NGINX, ['-t', '-p', d, '-e', path.join(d, 'logs/error.log'), '-c', 'nginx.conf', '-g', `pid ${d}/nginx.pid;`]);
      assert.equal(t.code, 0, t.stderr);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});
