// `wharf backup DIR` while uploads run: the copy is a data directory that `wharf serve`
// starts on, every file it lists downloads with its sha256, everything acknowledged before
// the backup began is in it, and `wharf fsck` on it is clean.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { run } from '../helpers/clients.ts';
import { MAIN, NODE, startServe, type ServeProcess } from '../helpers/serve-process.ts';
import { sqliteOnly } from '../helpers/test-database.ts';

const PASSWORD = 'backup-test-password';
const auth = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** Uploads in flight during the backup (WHARF_TEST_BACKUP_UPLOADS for a longer run by hand). */
const UPLOADS = Number(process.env.WHARF_TEST_BACKUP_UPLOADS ?? 40);

describe('wharf backup', { skip: sqliteOnly('wharf backup copies the embedded SQLite database; PostgreSQL is backed up with pg_dump') }, () => {
  const procs: ServeProcess[] = [];
  let work = '';
  after(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await rm(work, { recursive: true, force: true });
  });

  it('copies a running server consistently while uploads go on', async () => {
    work = await mkdtemp(join(tmpdir(), 'wharf-backup-'));
    const data = join(work, 'data');
    const copy = join(work, 'copy');
    const env = { WHARF_ADMIN_PASSWORD: PASSWORD };
    const live = await startServe(data, env);
    procs.push(live);
    const url = await live.ready;
    const api = (path: string, init: RequestInit = {}) => fetch(`${url}/-/api/v1${path}`, { ...init, headers: { authorization: auth, 'content-type': 'application/json', ...init.headers } });
    assert.equal((await api('/repositories', { method: 'POST', body: JSON.stringify({ name: 'files', format: 'files' }) })).status, 201);

    const acked = new Map<string, string>();
    const put = async (path: string) => {
      const body = randomBytes(64 * 1024 + Math.floor(Math.random() * 64 * 1024));
      const res = await fetch(`${url}/files/${path}`, { method: 'PUT', headers: { authorization: auth }, body });
      assert.equal(res.status, 201, await res.text());
      acked.set(path, sha(body));
    };
    for (let i = 0; i < 20; i++) await put(`before/${i}.bin`);
    const before = new Map(acked);

    // Writers keep uploading (and deleting some) while the backup runs.
    let stop = false;
    const writers = Array.from({ length: 3 }, async (_, w) => {
      for (let i = 0; i < UPLOADS && !stop; i++) {
        await put(`during/${w}/${i}.bin`);
        if (i % 5 === 4) {
          assert.equal((await fetch(`${url}/files/during/${w}/${i - 1}.bin`, { method: 'DELETE', headers: { authorization: auth } })).status, 204);
          acked.delete(`during/${w}/${i - 1}.bin`);
        }
      }
    });
    await new Promise((r) => setTimeout(r, 200));
    const cli = (args: string[]) => run(NODE, [MAIN, ...args], { env: { ...process.env, WHARF_URL: url, WHARF_USER: 'admin', WHARF_PASSWORD: PASSWORD } });
    const b = await cli(['backup', copy]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /^backed up \d+ files \(\d+ blobs, .*\) to .*copy in /);
    stop = true;
    await Promise.all(writers);

    const copied = await cli(['backup', join(work, 'copy2'), '--no-link']);
    assert.equal(copied.code, 0, copied.stderr);
    assert.match(copied.stdout, /; 0 hard-linked\)/);
    const fsck2 = await run(NODE, [MAIN, 'fsck', '--data', join(work, 'copy2'), '--json']);
    assert.deepEqual((JSON.parse(fsck2.stdout) as { problems: { kind: string }[] }).problems.filter((p) => !p.kind.startsWith('scope-')), [], 'blobs and indexes of a copy are whole');

    // Refused: a directory that is not empty, a relative path, the data directory itself.
    await writeFile(join(work, 'busy'), '');
    assert.equal((await api('/backup', { method: 'POST', body: JSON.stringify({ dir: work }) })).status, 409);
    assert.equal((await api('/backup', { method: 'POST', body: JSON.stringify({ dir: 'relative/dir' }) })).status, 400);
    assert.equal((await api('/backup', { method: 'POST', body: JSON.stringify({ dir: join(data, 'x') }) })).status, 400);
    assert.equal((await fetch(`${url}/-/api/v1/backup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dir: join(work, 'anon') }) })).status, 401);

    live.child.kill('SIGTERM');
    assert.equal(await live.exited, 0);

    // Restore: serve the copy; what it lists downloads, and what was acknowledged before is there.
    const restored = await startServe(copy, env);
    procs.push(restored);
    const url2 = await restored.ready;
    const listed = await (await fetch(`${url2}/-/api/v1/repositories/files/files`, { headers: { authorization: auth } })).json() as { files: { path: string; sha256: string }[] };
    const paths = new Set(listed.files.map((f) => f.path));
    for (const p of before.keys()) assert.ok(paths.has(p), `${p} was acknowledged before the backup`);
    assert.ok(listed.files.length >= 20);
    for (const f of listed.files) {
      const res = await fetch(`${url2}/files/${f.path}`);
      assert.equal(res.status, 200, f.path);
      assert.equal(sha(Buffer.from(await res.arrayBuffer())), f.sha256, f.path);
      if (acked.has(f.path)) assert.equal(f.sha256, acked.get(f.path));
    }
    restored.child.kill('SIGTERM');
    assert.equal(await restored.exited, 0);

    const check = await run(NODE, [MAIN, 'fsck', '--data', copy]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /^clean$/m);
  });
});
