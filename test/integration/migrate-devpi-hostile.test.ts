// `wharf migrate-from devpi` on exports that collide with what a Wharf already has, written by
// hand (no devpi-server needed): a devpi user named like an existing Wharf user gets no token
// minted (--mint-tokens) and keeps their password; an index named like an unrelated existing
// repository does not merge into it (its owner gains no grant there), while the migration's
// own repositories are recognised on a rerun.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { WharfClient } from '../../src/client/client.ts';
import { MINTED_TOKEN_NAME, migrateFromDevpi } from '../../src/migrate-from/devpi/migrate.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { ADMIN_PASSWORD, basic, startServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let work: string;
let admin: WharfClient;

/** An export of `indexes` (user/index -> its wheels), every index's owner a user. */
async function writeExport(dir: string, users: string[], indexes: Record<string, { name: string; version: string }[]>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const data: Record<string, unknown> = { dumpversion: '2', users: Object.fromEntries(users.map((u) => [u, { pwhash: 'x' }])), indexes: {} };
  for (const [ix, wheels] of Object.entries(indexes)) {
    const files = [];
    for (const w of wheels) {
      const relpath = `${ix}/+f/${wheelFilename(w)}`;
      const bytes = buildWheel({ ...w, summary: w.name });
      await mkdir(join(dir, ix, '+f'), { recursive: true });
      await writeFile(join(dir, relpath), bytes);
      files.push({ relpath, type: 'releasefile', projectname: w.name, version: w.version, entrymapping: { hashes: { sha256: createHash('sha256').update(bytes).digest('hex') } } });
    }
    (data.indexes as Record<string, unknown>)[ix] = { indexconfig: { type: 'stage', bases: [], volatile: false, acl_upload: [ix.split('/')[0]] }, files };
  }
  await writeFile(join(dir, 'dataindex.json'), JSON.stringify(data));
}

before(async () => {
  server = await startServer();
  work = await mkdtemp(join(tmpdir(), 'wharf-devpi-hostile-'));
  admin = new WharfClient({ url: server.url, user: 'admin', password: ADMIN_PASSWORD });
});
after(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

it('mints no token for an existing Wharf user who has a password (a server administrator above all), and keeps their password', async () => {
  await admin.createUser('carol', 'carols-own-password');
  const dir = join(work, 'users');
  await writeExport(dir, ['admin', 'carol', 'dave'], {});
  const { report } = await migrateFromDevpi(admin, dir, { mintTokens: true });
  const minted = (await admin.listTokens(true)).filter((t) => t.name === MINTED_TOKEN_NAME).map((t) => t.user).sort();
  assert.deepEqual(minted, ['dave'], JSON.stringify(report, null, 1));
  const who = await fetch(`${server.url}/-/api/v1/whoami`, { headers: { authorization: basic('carol', 'carols-own-password') } });
  assert.equal(who.status, 200);
  // A user a first run created without a password gets their token on a rerun with --mint-tokens.
  await writeExport(join(work, 'users2'), ['erin'], {});
  await migrateFromDevpi(admin, join(work, 'users2'));
  await migrateFromDevpi(admin, join(work, 'users2'), { mintTokens: true });
  assert.ok((await admin.listTokens(true)).some((t) => t.name === MINTED_TOKEN_NAME && t.user === 'erin'));
});

it('does not merge an index into an unrelated existing repository of the same name; its own repositories are the same on a rerun', async () => {
  // Someone else's repository that happens to be called like bob's devpi index.
  await admin.createRepo({ name: 'bob-scratch', format: 'pypi', kind: 'hosted', public: false });
  const theirs = join(work, 'theirs-1.0-py3-none-any.whl');
  await writeFile(theirs, buildWheel({ name: 'theirs', version: '1.0', summary: 'not bob\'s' }));
  await admin.upload('bob-scratch', theirs);
  const dir = join(work, 'repos');
  await writeExport(dir, ['bob'], { 'bob/scratch': [{ name: 'gamma', version: '0.1' }], 'bob/fresh': [{ name: 'delta', version: '0.2' }] });
  const { report } = await migrateFromDevpi(admin, dir);
  const bob = (await admin.listUsers()).find((u) => u.name === 'bob')!;
  assert.deepEqual(bob.grants.filter((g) => g.repo === 'bob-scratch'), [], 'bob gained a grant on a repository that is not his');
  assert.deepEqual((await admin.listFiles('bob-scratch')).map((f) => f.filename).filter((f) => f.endsWith('.whl')), ['theirs-1.0-py3-none-any.whl']);
  assert.match(JSON.stringify(report), /bob-scratch[^\n]*already exists/);
  assert.deepEqual((await admin.listFiles('bob-fresh')).map((f) => f.filename).filter((f) => f.endsWith('.whl')), ['delta-0.2-py3-none-any.whl']);
  // A rerun recognises bob-fresh as its own (bob has admin on it), even with a file added since.
  const later = join(work, 'delta-0.3-py3-none-any.whl');
  await writeFile(later, buildWheel({ name: 'delta', version: '0.3', summary: 'after' }));
  await admin.upload('bob-fresh', later);
  const again = await migrateFromDevpi(admin, dir);
  assert.ok(again.report.changedNothing, JSON.stringify(again.report, null, 1));
  // A repository a first run created and left empty (interrupted before its grants) is its own too.
  await admin.createRepo({ name: 'bob-empty', format: 'pypi', kind: 'hosted', public: true });
  await writeExport(join(work, 'empty'), ['bob'], { 'bob/empty': [{ name: 'eps', version: '1.0' }] });
  await migrateFromDevpi(admin, join(work, 'empty'));
  assert.deepEqual((await admin.listFiles('bob-empty')).map((f) => f.filename).filter((f) => f.endsWith('.whl')), ['eps-1.0-py3-none-any.whl']);
});

it('with --devpi-urls, an alias Wharf would refuse stops the migration before it changes anything', async () => {
  // A Wharf repository named like a devpi user: /carl/dev/ would be its URL, not the index's.
  await admin.createRepo({ name: 'carl', format: 'pypi', kind: 'hosted' });
  const dir = join(work, 'aliases');
  await writeExport(dir, ['carl', 'abe'], { 'abe/a': [{ name: 'zeta', version: '1.0' }], 'carl/dev': [{ name: 'kappa', version: '1.0' }] });
  await assert.rejects(migrateFromDevpi(admin, dir, { devpiUrls: true }), /carl\/dev[^]*carl/);
  const names = (await admin.listRepos()).map((r) => r.name);
  assert.ok(!names.includes('abe-a') && !names.includes('carl-dev'), names.join(' '));
  assert.ok(!(await admin.listUsers()).some((u) => u.name === 'abe'));
});

it('a rerun that adds --devpi-urls gives the repositories it made their aliases, and skips nothing', async () => {
  const dir = join(work, 'later-urls');
  await writeExport(dir, ['fay'], { 'fay/dev': [{ name: 'phi', version: '1.0' }] });
  await migrateFromDevpi(admin, dir);
  const { report } = await migrateFromDevpi(admin, dir, { devpiUrls: true });
  assert.deepEqual(report.skipped, [], JSON.stringify(report, null, 1));
  assert.deepEqual((await admin.getRepo('fay-dev')).options.aliases, ['fay/dev']);
  assert.equal((await fetch(`${server.url}/fay/dev/+simple/phi/`)).status, 200);
  assert.ok((await migrateFromDevpi(admin, dir, { devpiUrls: true })).report.changedNothing);
});

it('with --devpi-urls, an index whose URL cannot be an alias stops the migration before it changes anything', async () => {
  const dir = join(work, 'odd-alias');
  await writeExport(dir, ['dan', 'abel'], { 'abel/a': [], 'dan/dëv': [] });
  await assert.rejects(migrateFromDevpi(admin, dir, { devpiUrls: true, rename: new Map([['dan/dëv', 'dan-dev']]) }), /dan\/dëv/);
  assert.ok(!(await admin.listRepos()).some((r) => r.name === 'abel-a'));
});
