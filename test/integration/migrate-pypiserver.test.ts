// `wharf migrate-from pypiserver` on what real pypiserver (run from its public source) wrote:
// an htpasswd made by Debian's htpasswd with bcrypt, SHA-1 and apr1 users (and a plain-text
// and a DES one, which must be reported as not moved), packages uploaded into pypiserver by
// twine. After the migration pip installs the same from Wharf, every migrated user uploads to
// Wharf with twine and their old password (the stored hash is scrypt afterwards), the sign-in
// form's path re-hashes too, and a second run changes nothing.
// WHARF_TEST_DATABASE=postgres runs it on PostgreSQL.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { wharfCli } from '../helpers/child-server.ts';
import { pip, twineUpload } from '../helpers/clients.ts';
import { missingSources, unpackedSource } from '../helpers/fetched-source.ts';
import { freePort } from '../helpers/ports.ts';
import { buildSdist, buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

const PY = '/usr/bin/python3';
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const skip = missingSources('pypiserver/pypiserver')
  || (!has('htpasswd') && 'needs htpasswd (apache2-utils; scripts/install-test-deps.sh)')
  || (!has('twine') && 'needs twine')
  || (spawnSync(PY, ['-c', 'import passlib, defusedxml, bcrypt']).status !== 0 && 'needs python3-passlib python3-defusedxml python3-bcrypt (scripts/install-test-deps.sh)');

/** Users as pypiserver knew them: name, password, htpasswd flag. */
const USERS = [
  { name: 'alice', password: 'alice-bcrypt-pw', flag: '-B', scheme: 'bcrypt', prefix: '$2y$' },
  { name: 'bob', password: 'bob-sha1-pw', flag: '-s', scheme: 'sha1', prefix: '{SHA}' },
  { name: 'carol', password: 'carol-apr1-pw', flag: '-m', scheme: 'md5-crypt', prefix: '$apr1$' },
];
const REFUSED = [
  { name: 'dave', password: 'dave-plain-pw', flag: '-p', reason: /plain-text/ },
  { name: 'erin', password: 'erinpass', flag: '-d', reason: /DES/ },
];

interface Report { moved: { kind: string; name: string; note?: string }[]; unchanged: { kind: string; name: string }[]; skipped: { kind: string; name: string; note?: string }[] }

async function waitFor(url: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`pypiserver exited: ${log()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`pypiserver did not start: ${log()}`);
}

describe('wharf migrate-from pypiserver', { skip }, () => {
  let dir: string;
  let pkgs: string;
  let htpasswd: string;
  let server: TestServer;
  let pypiserver: ChildProcess | undefined;
  let pypiserverUrl: string;
  const installed: Record<string, string[]> = {};

  const migrate = async () => {
    const r = await wharfCli(['migrate-from', 'pypiserver', pkgs, '--htpasswd', htpasswd, '--repo', 'legacy', '--json'],
      { WHARF_URL: server.url, WHARF_USER: 'admin', WHARF_PASSWORD: ADMIN_PASSWORD });
    assert.equal(r.code, 0, r.out);
    return JSON.parse(r.out.slice(r.out.indexOf('{'))) as Report;
  };
  const pipInstall = async (index: string, target: string) => {
    // Wheels only: the sdist (moved too) has no build backend.
    const r = await pip(['install', '--only-binary', ':all:', '--index-url', index, '--target', target, 'beta-app']);
    assert.equal(r.code, 0, r.stderr);
    return (await readdir(target)).filter((f) => f.endsWith('.dist-info')).sort();
  };

  before(async () => {
    const src = unpackedSource('pypiserver/pypiserver', ['pypiserver']);
    dir = await mkdtemp(join(tmpdir(), 'wharf-mig-pypiserver-'));
    pkgs = join(dir, 'packages');
    htpasswd = join(dir, 'htpasswd');
    await mkdir(pkgs);
    spawnSync('htpasswd', ['-cb', '-B', '-C', '5', htpasswd, USERS[0].name, USERS[0].password]);
    for (const u of [...USERS.slice(1), ...REFUSED]) {
      const r = spawnSync('htpasswd', ['-b', u.flag, htpasswd, u.name, u.password], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    const port = await freePort();
    pypiserverUrl = `http://127.0.0.1:${port}`;
    let log = '';
    // --welcome: the default resource lookup fails on Debian 12's Python 3.11 (importlib.resources).
    pypiserver = spawn(PY, ['-m', 'pypiserver', 'run', '-i', '127.0.0.1', '-p', String(port), '--welcome', join(src, 'pypiserver/welcome.html'), '-P', htpasswd, '-a', 'update', pkgs],
      { cwd: src, env: { ...process.env, PYTHONPATH: src }, stdio: ['ignore', 'pipe', 'pipe'] });
    pypiserver.stdout!.on('data', (d: Buffer) => (log += d));
    pypiserver.stderr!.on('data', (d: Buffer) => (log += d));
    await waitFor(`${pypiserverUrl}/simple/`, pypiserver, () => log);

    // Each importable user uploads one file to pypiserver with twine.
    const build = join(dir, 'build');
    await mkdir(build);
    const dists: [string, Buffer][] = [
      [wheelFilename({ name: 'alpha-lib', version: '1.0' }), buildWheel({ name: 'alpha-lib', version: '1.0' })],
      ['alpha_lib-1.1.tar.gz', await buildSdist({ name: 'alpha-lib', version: '1.1' })],
      [wheelFilename({ name: 'beta-app', version: '2.0' }), buildWheel({ name: 'beta-app', version: '2.0', requiresDist: ['alpha-lib>=1.0'] })],
    ];
    for (const [i, [name, data]] of dists.entries()) {
      await writeFile(join(build, name), data);
      const u = USERS[i];
      const r = await twineUpload(`${pypiserverUrl}/`, u.name, u.password, [join(build, name)]);
      assert.equal(r.code, 0, `${u.name}: ${r.stdout}${r.stderr}`);
    }
    assert.deepEqual((await readdir(pkgs)).sort(), dists.map(([n]) => n).sort());
    installed.pypiserver = await pipInstall(`${pypiserverUrl}/simple/`, join(dir, 'from-pypiserver'));
    server = await startServer();
  });

  after(async () => {
    if (pypiserver && pypiserver.exitCode === null && pypiserver.signalCode === null) {
      pypiserver.kill();
      await once(pypiserver, 'exit');
    }
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('moves the packages and the users with bcrypt, SHA-1 and apr1 hashes; plain-text and DES users are reported', async () => {
    const report = await migrate();
    const moved = (kind: string) => report.moved.filter((m) => m.kind === kind).map((m) => m.name).sort();
    assert.deepEqual(moved('repository'), ['legacy']);
    assert.deepEqual(moved('file'), (await readdir(pkgs)).sort());
    assert.deepEqual(moved('user'), USERS.map((u) => u.name).sort());
    assert.deepEqual(moved('grant'), USERS.map((u) => `${u.name} write legacy`).sort());
    assert.deepEqual(report.skipped.map((s) => s.name).sort(), REFUSED.map((u) => u.name));
    for (const u of REFUSED) assert.match(report.skipped.find((s) => s.name === u.name)!.note!, u.reason);
    for (const u of USERS) {
      const row = await server.wharf.store.getUserByName(u.name);
      assert.ok(row?.passwordHash.startsWith(u.prefix), `${u.name} keeps the imported hash until the first login`);
    }
    assert.equal(await server.wharf.store.getUserByName('dave'), undefined);
  });

  it('pip installs from Wharf what it installed from pypiserver, with pypiserver stopped', async () => {
    pypiserver!.kill();
    await once(pypiserver!, 'exit');
    installed.wharf = await pipInstall(`${server.url}/legacy/simple/`, join(dir, 'from-wharf'));
    assert.deepEqual(installed.wharf, installed.pypiserver);
    assert.deepEqual(installed.wharf, ['alpha_lib-1.0.dist-info', 'beta_app-2.0.dist-info']);
  });

  it('each migrated user uploads with twine and the old password; the hash is scrypt afterwards', async () => {
    const build = join(dir, 'later');
    await mkdir(build, { recursive: true });
    for (const u of USERS) {
      const file = join(build, wheelFilename({ name: `${u.name}-tool`, version: '1.0' }));
      await writeFile(file, buildWheel({ name: `${u.name}-tool`, version: '1.0' }));
      const wrong = await twineUpload(`${server.url}/legacy/`, u.name, `${u.password}-not`, [file]);
      assert.notEqual(wrong.code, 0, 'a wrong password is refused');
      assert.ok((await server.wharf.store.getUserByName(u.name))!.passwordHash.startsWith(u.prefix), 'a failed login changes nothing');
      const r = await twineUpload(`${server.url}/legacy/`, u.name, u.password, [file]);
      assert.equal(r.code, 0, `${u.name} (${u.scheme}): ${r.stdout}${r.stderr}`);
      assert.match((await server.wharf.store.getUserByName(u.name))!.passwordHash, /^scrypt\$/, `${u.name} re-hashed`);
    }
    // After the re-hash the same password still works (a fresh check, not the verified cache).
    server.wharf.auth.forget();
    const again = join(build, wheelFilename({ name: 'alice-tool', version: '1.1' }));
    await writeFile(again, buildWheel({ name: 'alice-tool', version: '1.1' }));
    const r = await twineUpload(`${server.url}/legacy/`, 'alice', USERS[0].password, [again]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it('the sign-in form\'s path re-hashes an imported hash too', async () => {
    const hash = spawnSync('htpasswd', ['-nbB', '-C', '4', 'x', 'frank-form-pw'], { encoding: 'utf8' }).stdout.trim().slice(2);
    const res = await fetch(`${server.url}/-/api/v1/users`, { method: 'POST', headers: { authorization: server.adminAuth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'frank', passwordHash: hash }) });
    assert.equal(res.status, 201, await res.text());
    await assert.rejects(server.wharf.auth.login('frank', 'frank-form-wrong', '127.0.0.9'));
    const p = await server.wharf.auth.login('frank', 'frank-form-pw', '127.0.0.9');
    assert.equal(p.user.name, 'frank');
    assert.match((await server.wharf.store.getUserByName('frank'))!.passwordHash, /^scrypt\$/);
  });

  it('imported hashes are for administrators only, and never Wharf\'s own format or plain text', async () => {
    const post = (auth: string, body: unknown) => fetch(`${server.url}/-/api/v1/users`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const bob = `Basic ${Buffer.from(`bob:${USERS[1].password}`).toString('base64')}`;
    assert.equal((await post(bob, { name: 'mallory', passwordHash: '{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=' })).status, 403);
    assert.equal((await post(server.adminAuth, { name: 'mallory', passwordHash: 'plain-text-pw' })).status, 400);
    assert.equal((await post(server.adminAuth, { name: 'mallory', passwordHash: 'scrypt$1048576$8$1$c2FsdA==$a2V5' })).status, 400);
    assert.equal((await post(server.adminAuth, { name: 'mallory', password: 'long-enough-pw', passwordHash: '{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=' })).status, 400);
    assert.equal(await server.wharf.store.getUserByName('mallory'), undefined);
  });

  it('a second run changes nothing', async () => {
    const report = await migrate();
    assert.deepEqual(report.moved, []);
    assert.equal(report.unchanged.filter((u) => u.kind === 'user').length, USERS.length);
    assert.equal(report.unchanged.filter((u) => u.kind === 'file').length, 3);
    for (const u of USERS) assert.match((await server.wharf.store.getUserByName(u.name))!.passwordHash, /^scrypt\$/, 'a rerun does not bring the old hash back');
  });
});
