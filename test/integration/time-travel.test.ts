// Time travel and named snapshots (docs/decisions.md): each hosted format gets v1, the instant
// is noted, then v2 is uploaded and v1 deleted; pip, apt-get and pacman install from the
// as-of URL (or a snapshot URL) and get v1, curl downloads a deleted file through it, the
// files listing of then lists what was there, gc keeps what retained history lists and frees
// it once neither history nor a snapshot does, and bad instants get a clear 4xx.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { WharfClient } from '../../src/client/client.ts';
import { aptEnv, buildDeb, control, problems } from '../helpers/apt.ts';
import { pip, run, twineUpload } from '../helpers/clients.ts';
import { NODE } from '../helpers/serve-process.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';
import { onPostgres } from '../helpers/test-database.ts';
import { keyring, pacman, tinyPackage, trustKey } from './arch-helpers.ts';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** An instant strictly between what came before and what comes after. */
async function instant(): Promise<string> {
  await pause(20);
  const at = new Date().toISOString();
  await pause(20);
  return at;
}

describe('time travel: /<repo>/@<instant>/ and /<repo>/@<snapshot>/', () => {
  let s: TestServer;
  let work: string;
  let client: WharfClient;
  const at: Record<string, string> = {};
  const curl = async (args: string[]) => {
    const r = await run('curl', ['-q', '-sS', '-w', '\n%{http_code}', ...args]);
    const cut = r.stdout.lastIndexOf('\n');
    return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
  };
  const admin = ['-u', `admin:${ADMIN_PASSWORD}`];

  before(async () => {
    s = await startServer();
    work = await mkdtemp(join(tmpdir(), 'wharf-tt-'));
    client = new WharfClient({ url: s.url, user: 'admin', password: ADMIN_PASSWORD });
    for (const [name, format] of [['py', 'pypi'], ['deb', 'apt'], ['pkgs', 'arch'], ['art', 'files']]) {
      await client.createRepo({ name, format, ...(format === 'files' ? { options: { allowOverwrite: true } } : {}) });
    }
    // Groups of hosted repositories answer as of an instant from their members' history.
    await client.createRepo({ name: 'pyg', format: 'pypi', kind: 'group', options: { members: ['py'] } });
    await client.createRepo({ name: 'artg', format: 'files', kind: 'group', options: { members: ['art'] } });
    await client.createRepo({ name: 'up', format: 'pypi', kind: 'proxy', options: { upstream: 'http://127.0.0.1:9/simple/' } });
    await client.createRepo({ name: 'mixed', format: 'pypi', kind: 'group', options: { members: ['py', 'up'] } });
  });
  after(async () => {
    await s.close();
    await rm(work, { recursive: true, force: true });
  });

  it('pip installs the version an instant and a snapshot listed, after it was deleted', async () => {
    const files: Record<string, string> = {};
    for (const v of ['1.0', '2.0']) {
      files[v] = join(work, wheelFilename({ name: 'timely', version: v }));
      await writeFile(files[v], buildWheel({ name: 'timely', version: v }));
    }
    assert.equal((await twineUpload(`${s.url}/py/`, 'admin', ADMIN_PASSWORD, [files['1.0']])).code, 0);
    at.py = await instant();
    assert.equal((await twineUpload(`${s.url}/py/`, 'admin', ADMIN_PASSWORD, [files['2.0']])).code, 0);
    await client.deleteVersion('py', 'timely', '1.0');
    // A snapshot named after the fact, at the noted instant, through the CLI.
    const cli = await run(NODE, [join(import.meta.dirname, '../../src/cli/main.ts'), 'snapshot', 'create', 'py', 'before-2', '--at', at.py], {
      env: { ...process.env, WHARF_URL: s.url, WHARF_USER: 'admin', WHARF_PASSWORD: ADMIN_PASSWORD },
    });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /snapshot before-2 of py at /);

    const install = async (index: string) => {
      const target = await mkdtemp(join(work, 'pip-'));
      const r = await pip(['install', '--no-deps', '--index-url', index, '--target', target, 'timely']);
      assert.equal(r.code, 0, r.stderr);
      return (await readdir(target)).filter((n) => n.endsWith('.dist-info'));
    };
    assert.deepEqual(await install(`${s.url}/py/simple/`), ['timely-2.0.dist-info']);
    assert.deepEqual(await install(`${s.url}/py/@${at.py}/simple/`), ['timely-1.0.dist-info']);
    assert.deepEqual(await install(`${s.url}/py/@before-2/simple/`), ['timely-1.0.dist-info']);
    assert.deepEqual(await install(`${s.url}/pyg/@${at.py}/simple/`), ['timely-1.0.dist-info']);

    // The JSON API and the JSON simple page of then.
    const api = await (await fetch(`${s.url}/py/@${at.py}/pypi/timely/json`)).json() as { info: { version: string }; releases: Record<string, unknown[]> };
    assert.deepEqual(Object.keys(api.releases), ['1.0']);
    assert.equal(api.info.version, '1.0');
    const page = await fetch(`${s.url}/py/@before-2/simple/timely/`, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } });
    assert.equal(page.headers.get('x-wharf-as-of'), at.py);
    assert.deepEqual(((await page.json()) as { files: { filename: string }[] }).files.map((f) => f.filename), [wheelFilename({ name: 'timely', version: '1.0' })]);
    const root = await (await fetch(`${s.url}/py/@${at.py}/simple/`, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } })).json() as { projects: { name: string }[] };
    assert.deepEqual(root.projects.map((p) => p.name), ['timely']);
  });

  it('apt-get installs the old version from a signed as-of dists/', async () => {
    const v1 = await buildDeb(work, 'tick-1', control('tick', '1.0-1'));
    const up = (f: string) => run('curl', ['-sS', '-f', ...admin, '-T', f, `${s.url}/deb/upload/stable/main/`]);
    assert.equal((await up(v1)).code, 0);
    at.deb = await instant();
    assert.equal((await up(await buildDeb(work, 'tick-2', control('tick', '2.0-1')))).code, 0);
    await client.deleteFile('deb', 'pool/main/t/tick/tick_1.0-1_amd64.deb');

    const keyFile = join(work, 'deb.asc');
    await writeFile(keyFile, await (await fetch(`${s.url}/deb/key.asc`)).text());
    const env = await aptEnv(join(work, 'apt-asof'), { url: `${s.url}/deb/@${at.deb}`, suite: 'stable', component: 'main', keyFile });
    const update = await env.apt('apt-get', 'update', '-o', 'APT::Update::Error-Mode=any');
    assert.equal(update.code, 0, update.stdout + update.stderr);
    assert.deepEqual(problems(update), []);
    const install = await env.apt('apt-get', 'install', '-y', '--download-only', 'tick');
    assert.equal(install.code, 0, install.stdout + install.stderr);
    assert.deepEqual((await readdir(join(env.dir, 'cache/archives'))).filter((f) => f.endsWith('.deb')), ['tick_1.0-1_amd64.deb']);
    // Dated at the instant it shows: every build of it says the same.
    const release = await (await fetch(`${s.url}/deb/@${at.deb}/dists/stable/Release`)).text();
    assert.match(release, new RegExp(`^Date: ${new Date(at.deb).toUTCString().replace(/GMT$/, 'UTC')}$`, 'm'));
    // The live suite has only 2.0.
    const live = await (await fetch(`${s.url}/deb/dists/stable/main/binary-amd64/Packages`)).text();
    assert.deepEqual([...live.matchAll(/^Version: (.*)$/gm)].map((m) => m[1]), ['2.0-1']);
  });

  it('pacman installs the old version from a signed as-of db', async () => {
    const gpgdir = await keyring(join(work, 'gpg'));
    const keyFile = join(work, 'pkgs.asc');
    await writeFile(keyFile, await (await fetch(`${s.url}/pkgs/key.asc`)).text());
    const { keys } = await (await fetch(`${s.url}/-/api/v1/repositories/pkgs/keys`, { headers: { authorization: s.adminAuth } })).json() as { keys: { fingerprint: string }[] };
    await trustKey(gpgdir, keyFile, keys[0].fingerprint);
    const up = (f: string) => run('curl', ['-sS', '-f', ...admin, '-T', f, `${s.url}/pkgs/upload/`]);
    assert.equal((await up(await tinyPackage(work, { name: 'chime', version: '1.0-1' }))).code, 0);
    await client.createSnapshot('pkgs', 'first');
    at.pkgs = await instant();
    assert.equal((await up(await tinyPackage(work, { name: 'chime', version: '2.0-1' }))).code, 0);
    await client.deleteVersion('pkgs', 'chime', '1.0-1');

    for (const ref of [at.pkgs, 'first']) {
      const p = await pacman(join(work, `pacman-${ref.replace(/[^a-z0-9]/gi, '')}`), gpgdir, 'pkgs', `${s.url}/pkgs/@${ref}/$arch`);
      await p.ok('-Syw', 'chime');
      assert.deepEqual((await readdir(join(p.dir, 'cache'))).filter((f) => f.includes('.pkg.tar')).sort(), ['chime-1.0-1-x86_64.pkg.tar.zst', 'chime-1.0-1-x86_64.pkg.tar.zst.sig']);
    }
  });

  it('files: a deleted and an overwritten file are served as they were, and the listing of then', async () => {
    const putText = async (path: string, body: string) => {
      const f = join(work, 'body.txt');
      await writeFile(f, body);
      const r = await curl([...admin, '-T', f, `${s.url}/art/${path}`]);
      assert.ok(r.status === 201 || r.status === 200, `${r.status} ${r.body}`);
    };
    await putText('dir/a.txt', 'a one\n');
    await putText('dir/c.txt', 'c one\n');
    at.art = await instant();
    await putText('dir/a.txt', 'a two\n');
    await putText('dir/b.txt', 'b two\n');
    await client.deleteFile('art', 'dir/c.txt');

    assert.equal((await curl([`${s.url}/art/dir/c.txt`])).status, 404);
    // A folder whose name starts with @ (an npm scope) is a path, not a time, where it is no snapshot.
    await putText('@scope/pkg.tgz', 'scoped\n');
    assert.deepEqual(await curl([`${s.url}/art/@scope/pkg.tgz`]), { status: 200, body: 'scoped\n' });
    assert.deepEqual(await curl([`${s.url}/art/@${at.art}/dir/c.txt`]), { status: 200, body: 'c one\n' });
    assert.deepEqual(await curl([`${s.url}/art/@${at.art}/dir/a.txt`]), { status: 200, body: 'a one\n' });
    assert.equal((await curl([`${s.url}/art/@${at.art}/dir/b.txt`])).status, 404);
    assert.deepEqual(await curl([`${s.url}/artg/@${at.art}/dir/c.txt`]), { status: 200, body: 'c one\n' });
    const groupListing = await (await fetch(`${s.url}/artg/@${at.art}/dir/`, { headers: { accept: 'application/json' } })).json() as { entries: { name: string }[] };
    assert.deepEqual(groupListing.entries.map((f) => f.name), ['a.txt', 'c.txt']);
    const listing = await (await fetch(`${s.url}/art/@${at.art}/dir/`, { headers: { accept: 'application/json' } })).json() as { entries: { name: string; sha256: string }[] };
    assert.deepEqual(listing.entries.map((f) => f.name), ['a.txt', 'c.txt']);
    const live = await (await fetch(`${s.url}/art/dir/`, { headers: { accept: 'application/json' } })).json() as { entries: { name: string }[] };
    assert.deepEqual(live.entries.map((f) => f.name), ['a.txt', 'b.txt']);
    // gc keeps the deleted file's blob: retained history lists it; so does a backup.
    await client.gc(0);
    assert.deepEqual(await curl([`${s.url}/art/@${at.art}/dir/c.txt`]), { status: 200, body: 'c one\n' });
    if (!onPostgres) {
      const c = createHash('sha256').update('c one\n').digest('hex');
      await s.wharf.backup(join(work, 'backup'), s.data);
      assert.equal(await readFile(join(work, 'backup', 'blobs', c.slice(0, 2), c.slice(2, 4), c), 'utf8'), 'c one\n');
    }
  });

  it('a snapshot outlives historyDays; gc frees the blob once nothing lists it', async () => {
    await client.createSnapshot('art', 'keep', at.art);
    await client.updateRepo('art', { options: { historyDays: 0 } });
    await client.gc(0);
    // The instant is now older than the history kept; the snapshot still answers.
    const gone = await curl([`${s.url}/art/@${at.art}/dir/c.txt`]);
    assert.equal(gone.status, 410, gone.body);
    assert.match(gone.body, /historyDays/);
    assert.deepEqual(await curl([`${s.url}/art/@keep/dir/c.txt`]), { status: 200, body: 'c one\n' });
    await client.deleteSnapshot('art', 'keep');
    // A dry run counts what pruning the history would free, and prunes nothing.
    assert.equal((await client.gc(0, { dryRun: true })).blobs, 2);
    assert.equal(Number((await s.wharf.store.sql.get("SELECT COUNT(*) AS n FROM file_history WHERE sha256 IS NOT NULL AND repo_id = (SELECT id FROM repositories WHERE name = 'art')"))!.n), 2);
    const freed = await client.gc(0);
    // c.txt's bytes and a.txt's first bytes.
    assert.equal(freed.blobs, 2);
    assert.equal((await curl([`${s.url}/art/@keep/dir/c.txt`])).status, 404);
  });

  it('answers bad references, writes, proxies and private repositories with a 4xx', async () => {
    const status = async (path: string, init: RequestInit = {}) => (await fetch(`${s.url}${path}`, init)).status;
    assert.equal(await status('/py/@2999-01-01T00:00:00Z/simple/'), 400);
    assert.equal(await status('/py/@2000-01-01T00:00:00Z/simple/'), 404);
    assert.equal(await status('/py/@2026-02-30/simple/'), 400);
    assert.equal(await status('/py/@no%20such/simple/'), 400);
    assert.equal(await status('/py/@nosuch/simple/'), 404);
    assert.equal(await status(`/py/@${at.py}/`, { method: 'POST', headers: { authorization: s.adminAuth } }), 405);
    assert.equal(await status(`/up/@${at.py}/simple/`), 400);
    assert.equal(await status(`/mixed/@${at.py}/simple/`), 400);
    assert.equal((await fetch(`${s.url}/-/api/v1/repositories/up/snapshots`, { method: 'POST', headers: { authorization: s.adminAuth, 'content-type': 'application/json' }, body: '{"name":"x"}' })).status, 400);
    await client.updateRepo('py', { public: false });
    assert.equal(await status(`/py/@${at.py}/simple/timely/`), 401);
    assert.equal(await status('/py/@before-2/simple/timely/'), 401);
    assert.equal(await status('/py/@before-2/simple/timely/', { headers: { authorization: s.adminAuth } }), 200);
    // Snapshots: a taken name, a bad name; their changes are in the audit trail.
    await assert.rejects(client.createSnapshot('py', 'before-2'), /already/);
    await assert.rejects(client.createSnapshot('py', '2026-bad'), /invalid snapshot name/);
    assert.deepEqual((await client.listSnapshots('py')).map((x) => [x.name, x.at]), [['before-2', at.py]]);
    const trail = await client.audit({ action: 'snapshot-*' });
    assert.deepEqual(trail.entries.map((e) => [e.repo, e.action, e.target]).reverse(),
      [['py', 'snapshot-create', 'before-2'], ['pkgs', 'snapshot-create', 'first'], ['art', 'snapshot-create', 'keep'], ['art', 'snapshot-delete', 'keep']]);
  });

  it('an administrator purges a deleted file (a leaked secret) from the history and the snapshots at once', async () => {
    await client.createRepo({ name: 'sec', format: 'files' });
    const f = join(work, 'leak.txt');
    await writeFile(f, 'password=hunter2\n');
    assert.equal((await curl([...admin, '-T', f, `${s.url}/sec/conf/leak.txt`])).status, 201);
    const then = await instant();
    await client.createSnapshot('sec', 'pinned', then);
    const purge = (path: string, auth = s.adminAuth) => fetch(`${s.url}/-/api/v1/repositories/sec/history/purge`, {
      method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ path }),
    });
    // Still listed now: delete it first (the live delete is the format's, with its indexes).
    assert.equal((await purge('conf/leak.txt')).status, 409);
    assert.equal((await curl([...admin, '-X', 'DELETE', `${s.url}/-/api/v1/repositories/sec/files/conf/leak.txt`])).status, 204);
    assert.deepEqual(await curl([`${s.url}/sec/@${then}/conf/leak.txt`]), { status: 200, body: 'password=hunter2\n' });
    assert.equal((await curl([`${s.url}/sec/@pinned/conf/leak.txt`])).status, 200);
    assert.equal((await fetch(`${s.url}/sec/@pinned/conf/`, { headers: { accept: 'application/json' } })).status, 200);
    // Anonymous: no.
    assert.equal((await fetch(`${s.url}/-/api/v1/repositories/sec/history/purge`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"path":"conf/leak.txt"}' })).status, 401);
    const r = await purge('conf/leak.txt');
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { path: 'conf/leak.txt', rows: 1 });
    assert.equal((await curl([`${s.url}/sec/@${then}/conf/leak.txt`])).status, 404);
    assert.equal((await curl([`${s.url}/sec/@pinned/conf/leak.txt`])).status, 404);
    // The listing of then no longer has it (an empty folder is no folder).
    const listing = await fetch(`${s.url}/sec/@pinned/conf/`, { headers: { accept: 'application/json' } });
    assert.equal(listing.status, 404, await listing.text());
    // gc frees its bytes now (nothing names them).
    assert.equal((await client.gc(0)).blobs >= 1, true);
    const trail = await client.audit({ action: 'history-purge' });
    assert.deepEqual(trail.entries.map((e) => [e.repo, e.target]), [['sec', 'conf/leak.txt']]);

    // The same from the command line: `wharf history purge`.
    assert.equal((await curl([...admin, '-T', f, `${s.url}/sec/conf/key.pem`])).status, 201);
    const later = await instant();
    assert.equal((await curl([...admin, '-X', 'DELETE', `${s.url}/-/api/v1/repositories/sec/files/conf/key.pem`])).status, 204);
    assert.equal((await curl([`${s.url}/sec/@${later}/conf/key.pem`])).status, 200);
    const wharf = (args: string[]) => run(NODE, [join(import.meta.dirname, '../../src/cli/main.ts'), ...args], {
      env: { ...process.env, WHARF_URL: s.url, WHARF_USER: 'admin', WHARF_PASSWORD: ADMIN_PASSWORD },
    });
    const cli = await wharf(['history', 'purge', 'sec', 'conf/key.pem']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^purged conf\/key\.pem from the history of sec \(1 state\)/);
    assert.equal((await curl([`${s.url}/sec/@${later}/conf/key.pem`])).status, 404);
    // A path still listed: the server's 409 reaches the operator.
    assert.equal((await curl([...admin, '-T', f, `${s.url}/sec/conf/live.txt`])).status, 201);
    const refused = await wharf(['history', 'purge', 'sec', 'conf/live.txt']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /lists conf\/live\.txt now: delete it first/);
  });
});
