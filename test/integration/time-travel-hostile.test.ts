// Time travel against a hostile client: a private repository through `@` URLs (anonymous,
// a user without read, a token scoped to another repository), a snapshot's name asked of
// another repository, encoded `@`, `/` and `..`, a repository deleted and made again under its
// name, and instants no server should answer 5xx to (leap seconds, far past and future, many
// digits, other time zones). They hold: this test pins that.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WharfClient } from '../../src/client/client.ts';
import { run } from '../helpers/clients.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('time travel against a hostile client', () => {
  let s: TestServer;
  let admin: WharfClient;
  let then = '';
  let bobToken = '';
  const SECRET = 'the private bytes';
  const curl = async (path: string, args: string[] = []) => {
    const r = await run('curl', ['-q', '-sS', '--path-as-is', '-w', '\n%{http_code}', ...args, `${s.url}${path}`]);
    const cut = r.stdout.lastIndexOf('\n');
    return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
  };

  before(async () => {
    s = await startServer();
    admin = new WharfClient({ url: s.url, user: 'admin', password: ADMIN_PASSWORD });
    await admin.createRepo({ name: 'priv', format: 'files', public: false });
    await admin.createRepo({ name: 'pub', format: 'files' });
    await admin.createRepo({ name: 'py', format: 'pypi' });
    for (const [repo, body] of [['priv', SECRET], ['pub', 'public bytes']]) {
      const r = await fetch(`${s.url}/${repo}/d/f.txt`, { method: 'PUT', body, headers: { authorization: s.adminAuth } });
      assert.equal(r.status, 201);
    }
    await pause(20);
    then = new Date().toISOString();
    await pause(20);
    await admin.createSnapshot('priv', 'rel1');
    await admin.createUser('bob', 'bobs-password-123');
    await admin.grant('bob', 'pub', 'read');
    await admin.createUser('carol', 'carols-password-123');
    await admin.grant('carol', 'priv', 'read');
    await admin.grant('carol', 'pub', 'read');
    bobToken = (await new WharfClient({ url: s.url, user: 'carol', password: 'carols-password-123' }).createToken({ name: 'pub-only', repos: ['pub'], permission: 'read' })).token;
  });
  after(async () => s.close());

  it('a private repository answers nobody without read, whether the snapshot exists or not', async () => {
    const asked: Record<string, number[]> = {};
    const who: [string, string[]][] = [
      ['anonymous', []],
      ['bob (no read)', ['-u', 'bob:bobs-password-123']],
      ['a token scoped to pub', ['-H', `authorization: Bearer ${bobToken}`]],
    ];
    for (const [name, args] of who) {
      const r = [];
      for (const ref of [then, 'rel1', 'nosuch', '2026-01-01']) {
        const got = await curl(`/priv/@${ref}/d/f.txt`, args);
        assert.ok(got.status >= 400 && got.status < 500, `${name} @${ref}: ${got.status}`);
        assert.ok(!got.body.includes(SECRET), `${name} @${ref} read the secret`);
        r.push(got.status);
      }
      asked[name] = r;
      // The same answer for a snapshot that exists and one that does not: no oracle of names.
      assert.equal(r[1], r[2], `${name}: ${r}`);
    }
    // Carol may read it; her password works, her token scoped to pub does not.
    assert.deepEqual(await curl('/priv/@rel1/d/f.txt', ['-u', 'carol:carols-password-123']), { status: 200, body: SECRET });
  });

  it("a snapshot of one repository is not another's; encoded @, / and .. reach nothing private", async () => {
    assert.equal((await curl('/pub/@rel1/d/f.txt')).status, 404);
    for (const path of [`/pub/@${then}/../priv/d/f.txt`, `/pub/@${then}/%2e%2e/%2e%2e/priv/d/f.txt`, '/pub/@..%2Fpriv/d/f.txt', '/pub/@%2E%2E/priv/d/f.txt',
      '/priv/%40rel1/d/f.txt', `/pub/@${encodeURIComponent('../../priv/@rel1')}/d/f.txt`, '/pub/@rel1%2F..%2F..%2Fpriv/d/f.txt', '/pub/@%ZZ/d/f.txt', '/pub/@/d/f.txt']) {
      const got = await curl(path);
      assert.ok(got.status >= 300 && got.status < 500, `${path}: ${got.status} ${got.body}`);
      assert.ok(!got.body.includes(SECRET), `${path} read the secret`);
    }
  });

  // On PyPI (a files repository would take a malformed `@…` for a folder of that name: 404).
  it('bad instants are a clear 4xx', async () => {
    const cases: [string, number][] = [
      ['2026-06-30T23:59:60Z', 400], // a leap second: not an instant JavaScript (or Wharf's history) knows
      ['2026-06-30T24:00:00Z', 400],
      ['0000-01-01T00:00:00Z', 404],
      ['1969-12-31T23:59:59Z', 404],
      ['9999-12-31T23:59:59Z', 400],
      ['+275760-09-13T00:00:00Z', 400],
      [`${then.slice(0, 19)}.1234567891Z`, 400], // ten digits of fraction
      ['2026-06-01T00:00:00+99:99', 400],
      ['2026-06-01T00:00:00', 400], // no zone
      ['2026-06-01T00:00:00 UTC', 400],
      ['20260601', 400],
      ['2026-13-01', 400],
      ['x'.repeat(5000), 400],
    ];
    for (const [ref, want] of cases) {
      const got = await curl(`/py/@${encodeURIComponent(ref)}/simple/`);
      assert.equal(got.status, want, `@${ref.slice(0, 40)}: ${got.status} ${got.body.slice(0, 200)}`);
    }
    // Other zones and nine digits of fraction are the same instant in UTC.
    const ms = Date.parse(then) + 1;
    const plus = new Date(ms + 5.5 * 3600_000).toISOString().slice(0, 23).replace('T', 'T') + '000000+05:30';
    const got = await curl(`/pub/@${encodeURIComponent(plus)}/d/f.txt`);
    assert.deepEqual(got, { status: 200, body: 'public bytes' });
    // A snapshot name that looks like an instant is refused when made.
    await assert.rejects(admin.createSnapshot('pub', '2026-06-01T00:00:00Z'), /invalid snapshot name/);
  });

  it('a repository deleted and made again under its name shows none of the old one', async () => {
    // The newest repository: SQLite may give a deleted row's id to the next one.
    await admin.createRepo({ name: 'tmp', format: 'files' });
    assert.equal((await fetch(`${s.url}/tmp/d/f.txt`, { method: 'PUT', body: 'old bytes', headers: { authorization: s.adminAuth } })).status, 201);
    await admin.createSnapshot('tmp', 'old');
    const id = s.wharf.repo('tmp')!.id;
    await admin.deleteRepo('tmp');
    await admin.createRepo({ name: 'tmp', format: 'files' });
    console.error(`# id ${id} -> ${s.wharf.repo('tmp')!.id}`);
    assert.equal((await curl('/tmp/@old/d/f.txt')).status, 404);
    assert.equal((await curl(`/tmp/@${then}/d/f.txt`)).status, 404);
    assert.deepEqual(await admin.listSnapshots('tmp'), []);
    await pause(20);
    const now = new Date().toISOString();
    await pause(20);
    assert.equal((await curl(`/tmp/@${now}/d/f.txt`)).status, 404);
    assert.equal(Number((await s.wharf.store.sql.get("SELECT COUNT(*) AS n FROM file_history WHERE repo_id = (SELECT id FROM repositories WHERE name = 'tmp')"))!.n), 0);
  });
});
