// The audit trail (docs/security.md): every kind of change appears with who, when, from which
// address and what, made by real clients (twine, curl, the wharf CLI) and the API; only
// administrators (or a repository's admins, for that repository) read it; filters and
// pagination by id work; nothing in it can be changed through the API; and a change whose
// entry cannot be written does not happen.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildDeb, control } from '../helpers/apt.ts';
import { run, twineUpload } from '../helpers/clients.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { AuditLog } from '../../src/db/audit-log.ts';
import { ADMIN_PASSWORD, basic, startServer, type TestServer } from '../helpers/server.ts';

interface Entry {
  id: number; at: string; actor: string; tokenId: string | null; tokenName: string | null; address: string | null;
  repo: string | null; action: string; target: string | null; detail: Record<string, unknown>;
}

const NODE = process.execPath;
const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');
const FORWARDED = '203.0.113.7';

describe('audit trail', () => {
  let s: TestServer;
  let dir: string;
  const started = new Date().toISOString();
  const ALICE = basic('alice', 'alice-password-1');

  async function api(method: string, path: string, body?: unknown, auth: string | null = s.adminAuth, headers: Record<string, string> = {}) {
    const res = await fetch(`${s.url}/-/api/v1${path}`, {
      method,
      headers: { ...(auth ? { authorization: auth } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }
  async function audit(query = '', auth: string | null = s.adminAuth): Promise<{ status: number; entries: Entry[]; next: number | null }> {
    const r = await api('GET', `/audit${query ? `?${query}` : ''}`, undefined, auth);
    return { status: r.status, entries: r.json?.entries ?? [], next: r.json?.next ?? null };
  }
  /** The newest entry of an action (on a repository). */
  async function last(action: string, repo?: string): Promise<Entry> {
    const { entries } = await audit(`action=${action}${repo ? `&repo=${repo}` : ''}&limit=1`);
    assert.equal(entries.length, 1, `an entry for ${action}`);
    return entries[0];
  }
  function recent(e: Entry) {
    assert.ok(e.at >= started && Date.parse(e.at) <= Date.now(), `${e.action} at ${e.at}`);
  }

  before(async () => {
    // The test's own address is a trusted proxy: X-Forwarded-For names the client.
    s = await startServer({ trustedProxies: ['127.0.0.1'] });
    dir = await mkdtemp(join(tmpdir(), 'wharf-audit-'));
  });
  after(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records repository, user, grant and token changes with who and from where', async () => {
    assert.equal((await api('POST', '/repositories', { name: 'team', format: 'pypi' }, s.adminAuth, { 'x-forwarded-for': FORWARDED })).status, 201);
    const created = await last('repo-create');
    assert.equal(created.actor, 'admin');
    assert.equal(created.address, FORWARDED);
    assert.equal(created.repo, 'team');
    assert.equal(created.tokenId, null);
    assert.deepEqual({ format: created.detail.format, kind: created.detail.kind, public: created.detail.public }, { format: 'pypi', kind: 'hosted', public: true });
    recent(created);

    assert.equal((await api('POST', '/users', { name: 'alice', password: 'alice-password-1' })).status, 201);
    const user = await last('user-create');
    assert.deepEqual([user.actor, user.target, user.detail.admin, user.address], ['admin', 'alice', false, '127.0.0.1']);
    assert.ok(!JSON.stringify(user).includes('alice-password-1'), 'no password in the trail');

    assert.equal((await api('PUT', '/users/alice/grants', { repo: 'team', permission: 'write' })).status, 200);
    const grant = await last('grant');
    assert.deepEqual([grant.repo, grant.target, grant.detail.permission], ['team', 'alice', [null, 'write']]);

    assert.equal((await api('PATCH', '/repositories/team', { public: false, options: { allowOverwrite: true } })).status, 200);
    const update = await last('repo-update');
    assert.deepEqual(update.detail, { public: [true, false], options: { allowOverwrite: [false, true] } });
    // A patch that changes nothing records nothing.
    const before = (await audit()).entries[0].id;
    assert.equal((await api('PATCH', '/repositories/team', { public: false })).status, 200);
    assert.equal((await audit()).entries[0].id, before);

    // An upstream's password is never in the trail, created or changed.
    assert.equal((await api('POST', '/repositories', { name: 'up', format: 'pypi', kind: 'proxy', options: { upstream: 'http://127.0.0.1:9/simple/', username: 'u', password: 'upstream-pw-1' } })).status, 201);
    assert.equal((await last('repo-create', 'up')).detail.options && ((await last('repo-create', 'up')).detail.options as Record<string, unknown>).password, '(secret)');
    assert.equal((await api('PATCH', '/repositories/up', { options: { password: 'upstream-pw-2' } })).status, 200);
    assert.deepEqual((await last('repo-update', 'up')).detail, { options: { password: ['(secret)', '(secret)'] } });
    assert.ok(!JSON.stringify((await audit('repo=up')).entries).includes('upstream-pw'));
    assert.equal((await api('DELETE', '/repositories/up')).status, 204);

    assert.equal((await api('PATCH', '/users/alice', { password: 'alice-password-2' }, ALICE)).status, 200);
    const pw = await last('user-password');
    assert.deepEqual([pw.actor, pw.target], ['alice', 'alice']);
    assert.ok(!JSON.stringify(pw).includes('alice-password-2'));
    assert.equal((await api('PATCH', '/users/alice', { password: 'alice-password-1' }, basic('alice', 'alice-password-2'))).status, 200);
  });

  let token = '';
  let tokenId = '';
  it('records a token minted by its owner, and a twine upload with it, by the token', async () => {
    const t = await api('POST', '/tokens', { name: 'ci', repos: ['team'], permission: 'write' }, ALICE);
    assert.equal(t.status, 201);
    token = t.json.token;
    tokenId = t.json.id;
    const minted = await last('token-create');
    assert.deepEqual([minted.actor, minted.target, minted.detail.tokenId, minted.detail.name], ['alice', 'alice', tokenId, 'ci']);
    assert.ok(!JSON.stringify(minted).includes(token), 'no token secret in the trail');

    const name = 'auditpkg';
    const files: string[] = [];
    for (const version of ['1.0', '2.0']) {
      const f = join(dir, wheelFilename({ name, version }));
      await writeFile(f, buildWheel({ name, version }));
      files.push(f);
    }
    const r = await twineUpload(`${s.url}/team/`, '__token__', token, files);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const uploads = (await audit('action=upload&repo=team')).entries;
    assert.equal(uploads.length, 2);
    for (const e of uploads) {
      assert.equal(e.actor, 'alice');
      assert.equal(e.tokenId, tokenId);
      assert.equal(e.tokenName, 'ci');
      assert.equal(e.address, '127.0.0.1');
      assert.equal(e.detail.package, name);
      recent(e);
    }
    assert.deepEqual(uploads.map((e) => e.detail.version), ['2.0', '1.0'], 'newest first');
    const files0 = uploads[1].detail.files as { path: string; sha256: string; size: number }[];
    assert.ok(files0.some((f) => f.path.endsWith(wheelFilename({ name, version: '1.0' })) && /^[0-9a-f]{64}$/.test(f.sha256) && f.size > 0), JSON.stringify(files0));
    assert.equal(uploads[1].target, files0[0].path);
    // An identical re-upload changes nothing and records nothing.
    assert.equal((await twineUpload(`${s.url}/team/`, '__token__', token, [files[0]])).code, 0);
    assert.equal((await audit('action=upload&repo=team')).entries.length, 2);
  });

  it('records yank, unyank and project status (old → new), and deletes by curl and the API', async () => {
    const act = (action: string, body: object) => api('POST', `/repositories/team/actions/${action}`, body, s.adminAuth, { 'x-forwarded-for': FORWARDED });
    assert.equal((await act('yank', { package: 'auditpkg', version: '1.0', reason: 'broken' })).status, 200);
    const yank = await last('yank');
    assert.deepEqual([yank.actor, yank.address, yank.repo, yank.target, yank.detail.reason], ['admin', FORWARDED, 'team', 'auditpkg 1.0', 'broken']);
    assert.deepEqual(yank.detail.files, [wheelFilename({ name: 'auditpkg', version: '1.0' })]);
    assert.equal((await act('unyank', { package: 'auditpkg', version: '1.0' })).status, 200);
    assert.equal((await last('unyank')).target, 'auditpkg 1.0');

    assert.equal((await act('project-status', { package: 'auditpkg', status: 'deprecated', reason: 'use other' })).status, 200);
    assert.deepEqual((await last('project-status')).detail, { status: ['active', 'deprecated'], reason: [null, 'use other'] });
    assert.equal((await act('project-status', { package: 'auditpkg', status: 'active' })).status, 200);
    assert.deepEqual((await last('project-status')).detail, { status: ['deprecated', 'active'], reason: ['use other', null] });
    // Reading a status changes nothing.
    const n = (await audit('action=project-status')).entries.length;
    assert.equal((await act('project-status', { package: 'auditpkg' })).status, 200);
    assert.equal((await audit('action=project-status')).entries.length, n);

    const wheel = (await api('GET', '/repositories/team/packages/auditpkg')).json.versions.find((v: { version: string }) => v.version === '2.0').files[0];
    const curl = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'DELETE', '-H', `Authorization: Bearer ${token}`, '-H', `X-Forwarded-For: 198.51.100.9`,
      `${s.url}/-/api/v1/repositories/team/files/${wheel.path}`]);
    assert.equal(curl.stdout, '204', curl.stderr);
    const del = await last('delete-file');
    assert.deepEqual([del.actor, del.tokenName, del.address, del.repo, del.target, del.detail.sha256], ['alice', 'ci', '198.51.100.9', 'team', wheel.path, wheel.sha256]);

    assert.equal((await api('DELETE', '/repositories/team/packages/auditpkg/versions/1.0')).status, 204);
    assert.equal((await last('delete-version')).target, 'auditpkg 1.0');
    // Upload again, then delete the whole package.
    const r = await twineUpload(`${s.url}/team/`, '__token__', token, [join(dir, wheelFilename({ name: 'auditpkg', version: '1.0' }))]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await api('DELETE', '/repositories/team/packages/auditpkg')).status, 204);
    const pkgDel = await last('delete-package');
    assert.deepEqual([pkgDel.actor, pkgDel.repo, pkgDel.target], ['admin', 'team', 'auditpkg']);
  });

  it('records key rotation, gc, admin status, token revocation, user and repository deletion', async () => {
    assert.equal((await api('POST', '/repositories', { name: 'debs', format: 'apt' })).status, 201);
    // The same .deb into one more suite changes the repository: an upload, marked merged.
    const deb = await readFile(await buildDeb(dir, 'hello', control('hello', '1.0')));
    for (const [suite, status] of [['stable', 201], ['testing', 200], ['testing', 200]] as const) {
      const r = await fetch(`${s.url}/-/api/v1/repositories/debs/upload?filename=hello_1.0_amd64.deb&suite=${suite}&component=main`, {
        method: 'POST', body: deb, headers: { authorization: s.adminAuth, 'content-type': 'application/octet-stream' },
      });
      assert.equal(r.status, status, await r.text());
    }
    const debUploads = (await audit('repo=debs&action=upload')).entries;
    assert.equal(debUploads.length, 2, 'the third upload changed nothing');
    assert.equal(debUploads[0].detail.merged, true);
    assert.equal(debUploads[1].detail.merged, undefined);

    const rotated = await api('POST', '/repositories/debs/keys/rotate', { graceDays: 0 });
    assert.equal(rotated.status, 200);
    const rot = await last('rotate-keys');
    assert.equal(rot.repo, 'debs');
    assert.equal(rot.target, rotated.json.keys[0].fingerprint);
    assert.equal((rot.detail.retired as string[]).length, 1);

    assert.equal((await api('POST', '/gc?graceSeconds=0')).status, 200);
    assert.equal(typeof (await last('gc')).detail.blobs, 'number');

    assert.equal((await api('PATCH', '/users/alice', { admin: true })).status, 200);
    assert.deepEqual((await last('user-admin')).detail, { admin: [false, true] });
    assert.equal((await api('PATCH', '/users/alice', { admin: false })).status, 200);

    // A token gives itself up.
    assert.equal((await api('DELETE', `/tokens/${tokenId}`, undefined, `Bearer ${token}`)).status, 204);
    const revoked = await last('token-revoke');
    assert.deepEqual([revoked.actor, revoked.tokenId, revoked.target, revoked.detail.tokenId], ['alice', tokenId, 'alice', tokenId]);

    assert.equal((await api('POST', '/users', { name: 'bob', password: 'bob-password-1' })).status, 201);
    assert.equal((await api('DELETE', '/users/bob')).status, 204);
    assert.equal((await last('user-delete')).target, 'bob');

    assert.equal((await api('DELETE', '/repositories/debs')).status, 204);
    const gone = await last('repo-delete');
    assert.deepEqual([gone.repo, gone.detail.format], ['debs', 'apt']);
    // Its entries outlive it.
    assert.ok((await audit('repo=debs')).entries.length >= 3);
  });

  it('is read by administrators, and by a repository\'s admins for that repository only', async () => {
    assert.equal((await audit('', null)).status, 401);
    assert.equal((await audit('', ALICE)).status, 403, 'a user without admin');
    assert.equal((await audit('repo=team', ALICE)).status, 403, 'write on the repository is not enough');
    assert.equal((await api('PUT', '/users/alice/grants', { repo: 'team', permission: 'admin' })).status, 200);
    const own = await audit('repo=team', ALICE);
    assert.equal(own.status, 200);
    assert.ok(own.entries.length > 5 && own.entries.every((e) => e.repo === 'team'));
    assert.equal((await audit('', ALICE)).status, 403, 'not the whole trail');
    assert.equal((await audit('repo=debs', ALICE)).status, 404, 'nor another repository');
  });

  it('filters by repository, user, action (exact or prefix) and time, and pages by id', async () => {
    const all = (await audit('limit=1000')).entries;
    assert.ok(all.length > 20, String(all.length));
    assert.deepEqual(all.map((e) => e.id), [...all.map((e) => e.id)].sort((a, b) => b - a), 'newest first');
    assert.ok((await audit('user=alice')).entries.every((e) => e.actor === 'alice'));
    assert.ok((await audit('user=alice')).entries.some((e) => e.action === 'upload'));
    const repoActions = (await audit('action=repo-*&limit=1000')).entries;
    assert.deepEqual([...new Set(repoActions.map((e) => e.action))].sort(), ['repo-create', 'repo-delete', 'repo-update']);
    assert.equal(repoActions.length, all.filter((e) => e.action.startsWith('repo-')).length);
    assert.deepEqual((await audit(`since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).entries, []);
    assert.equal((await audit('since=1d&limit=1000')).entries.length, all.length);
    assert.equal((await audit('since=yesterday')).status, 400);
    // Pages of 3 walk the whole trail, each entry once.
    const seen: number[] = [];
    let before: number | null = null;
    for (;;) {
      const page = await audit(`limit=3${before === null ? '' : `&before=${before}`}`);
      assert.ok(page.entries.length <= 3);
      seen.push(...page.entries.map((e) => e.id));
      if (page.next === null) break;
      before = page.next;
    }
    assert.deepEqual(seen, all.map((e) => e.id));
    assert.equal((await audit('limit=0')).status, 400);
  });

  it('cannot be changed or deleted through the API', async () => {
    const before = (await audit('limit=1000')).entries;
    const id = before[0].id;
    for (const [method, path] of [['DELETE', '/audit'], ['PUT', '/audit'], ['PATCH', '/audit'], ['POST', '/audit'], ['DELETE', `/audit/${id}`], ['PUT', `/audit/${id}`], ['PATCH', `/audit/${id}`]] as const) {
      const r = await api(method, path, method === 'DELETE' ? undefined : { action: 'nothing' });
      assert.ok(r.status === 404 || r.status === 405, `${method} ${path}: ${r.status}`);
    }
    assert.deepEqual((await audit('limit=1000')).entries, before);
    const openapi = await (await fetch(`${s.url}/-/api/v1/openapi.json`)).json() as { paths: Record<string, Record<string, unknown>> };
    const auditPaths = Object.entries(openapi.paths).filter(([p]) => p.includes('audit'));
    assert.deepEqual(auditPaths.map(([p, ops]) => [p, Object.keys(ops)]), [['/-/api/v1/audit', ['get']]]);
  });

  it('is read with `wharf audit`, as a table and as JSON', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, WHARF_URL: s.url, WHARF_USER: 'admin', WHARF_PASSWORD: ADMIN_PASSWORD };
    delete env.WHARF_TOKEN;
    const json = await run(NODE, [MAIN, '--json', 'audit', '--repo', 'team', '--action', 'upload', '--limit', '2'], { env });
    assert.equal(json.code, 0, json.stderr);
    const entries = JSON.parse(json.stdout) as Entry[];
    assert.equal(entries.length, 2);
    assert.ok(entries.every((e) => e.repo === 'team' && e.action === 'upload' && e.actor === 'alice'));
    const text = await run(NODE, [MAIN, 'audit', '--user', 'admin', '--action', 'project-status', '--since', '1h'], { env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^ID\s+TIME\s+WHO\s+ADDRESS\s+REPOSITORY\s+ACTION\s+WHAT$/m);
    assert.match(text.stdout, new RegExp(`admin\\s+${FORWARDED.replace(/\./g, '\\.')}\\s+team\\s+project-status\\s+auditpkg; status: deprecated → active`));
    // More than one page of the server's: the CLI pages through (here, by asking for 1001 of fewer).
    const many = await run(NODE, [MAIN, '--json', 'audit', '--limit', '1001'], { env });
    assert.equal(many.code, 0, many.stderr);
    assert.equal((JSON.parse(many.stdout) as Entry[]).length, (await audit('limit=1000')).entries.length);
    const refused = await run(NODE, [MAIN, 'audit'], { env: { ...env, WHARF_USER: 'alice', WHARF_PASSWORD: 'alice-password-1' } });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /403/);
  });

  it('writes a change and its entry together: no entry, no change', async () => {
    assert.equal((await api('POST', '/repositories', { name: 'atomic', format: 'files' })).status, 201);
    const put = await fetch(`${s.url}/atomic/a.txt`, { method: 'PUT', body: 'hello', headers: { authorization: s.adminAuth } });
    assert.ok(put.ok, String(put.status));
    const up = await last('upload', 'atomic');
    assert.equal(up.target, 'a.txt');
    // The trail cannot take the entry (its table renamed away): the delete fails and the file stays.
    await s.wharf.store.sql.exec('ALTER TABLE audit_log RENAME TO audit_log_away');
    try {
      const del = await fetch(`${s.url}/atomic/a.txt`, { method: 'DELETE', headers: { authorization: s.adminAuth } });
      assert.equal(del.status, 500);
      const still = await fetch(`${s.url}/atomic/a.txt`);
      assert.equal(still.status, 200);
      assert.equal(await still.text(), 'hello');
    } finally {
      await s.wharf.store.sql.exec('ALTER TABLE audit_log_away RENAME TO audit_log');
    }
    const del = await fetch(`${s.url}/atomic/a.txt`, { method: 'DELETE', headers: { authorization: s.adminAuth } });
    assert.ok(del.ok, String(del.status));
    assert.equal((await last('delete-file', 'atomic')).target, 'a.txt');
  });

  it('keeps everything unless auditKeepDays is set; pruning is itself recorded', async () => {
    const log = new AuditLog(s.wharf.store.sql);
    const old = new Date(Date.now() - 400 * 86_400_000).toISOString();
    await log.insert({ at: old, actor: 'admin', tokenId: null, tokenName: null, address: null, repo: 'team', action: 'upload', target: 'ancient', detail: {} });
    const count = async () => (await audit('limit=1000')).entries.length;
    const total = await count();
    assert.equal(await s.scheduler.pruneAudit(), 0, 'auditKeepDays 0: nothing goes');
    assert.equal(await count(), total);
    s.scheduler.auditKeepDays = 30;
    try {
      assert.equal(await s.scheduler.pruneAudit(), 1);
    } finally {
      s.scheduler.auditKeepDays = 0;
    }
    const after = (await audit('limit=1000')).entries;
    assert.equal(after.length, total, 'one gone, one (the prune) added');
    assert.ok(!after.some((e) => e.target === 'ancient'));
    assert.deepEqual([after[0].action, after[0].actor, after[0].detail.entries], ['audit-prune', 'system', 1]);
  });
});
