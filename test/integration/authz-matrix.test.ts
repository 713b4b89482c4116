// The authorization matrix: every management API route (read from the OpenAPI document the
// server publishes), every protocol route of every format (read from the format plugins'
// route tables) and every page for browsers (PAGE_ROUTES) is called by every kind of identity, against public and private repositories
// of every format and kind. The expected outcome comes from POLICY below, which states what
// docs/security.md allows, computed from an independent model of grants and tokens (not from
// src/core/auth). Any success the policy does not allow fails the test, and so does private
// content (markers seeded in private repositories) in any successful answer to an identity
// that may not read it. A route without a policy entry or without sample parameters fails
// too: a new route cannot go untested.
//
// Calls are made in process (`app.inject`): this is about policy, not transport.
// WHARF_AUTHZ_VERBOSE=1 prints every call.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FormatPlugin } from '../../src/core/format-plugin.ts';
import type { Repository } from '../../src/core/model.ts';
import { formats } from '../../src/formats/index.ts';
import { PAGE_ROUTES } from '../../src/server/pages/index.ts';
import { buildDeb, control } from '../helpers/apt.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { ADMIN_PASSWORD, basic, startServer, type TestServer } from '../helpers/server.ts';
import { buildPackage, makePkginfo } from '../unit/arch/fixtures.ts';

// ---- the model: who may do what (docs/security.md, "What each identity gets")

const LEVELS = { none: 0, read: 1, write: 2, admin: 3 } as const;
type Level = 0 | 1 | 2 | 3;

interface Identity {
  name: string;
  /** Credentials are valid (wrong passwords, expired and revoked tokens are not). */
  valid: boolean;
  user?: string;
  serverAdmin?: boolean;
  grants?: [pattern: string, level: Level][];
  /** A token: its permission and repository patterns (the owner's grants also bound it). */
  token?: { level: Level; repos: string[] };
  /**
   * A browser session (the `wharf_session` cookie, no Authorization): the user's rights for
   * GET and HEAD outside the JSON API; anything else is anonymous (only the pages' CSRF-checked forms take the
   * cookie for other methods, and accounts.test.ts covers those).
   */
  session?: boolean;
  auth: string | null;
  cookie?: string;
  /** The client address it calls from (each identity its own: throttling is per address). */
  address: string;
}

const glob = (pattern: string, name: string) =>
  new RegExp('^' + pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\-]/g, '\\$&')).join('.*') + '$').test(name);

interface RepoInfo {
  name: string;
  format: string;
  kind: 'hosted' | 'proxy' | 'group';
  public: boolean;
  /** Private content: a marker string that must never reach those who cannot read this repository. */
  marker?: string;
  /** A group: the private member whose content the samples ask for. */
  secretMember?: string;
}

function level(id: Identity, repo: Pick<RepoInfo, 'name' | 'public'>): Level {
  const pub: Level = repo.public ? 1 : 0;
  if (!id.valid) return 0;
  if (!id.user) return pub;
  let own: Level = id.serverAdmin ? 3 : 0;
  for (const [pattern, l] of id.grants ?? []) if (glob(pattern, repo.name)) own = Math.max(own, l) as Level;
  if (id.token) own = id.token.repos.some((p) => glob(p, repo.name)) ? (Math.min(own, id.token.level) as Level) : 0;
  return Math.max(own, pub) as Level;
}

const passwordLogin = (id: Identity) => id.valid && !!id.user && !id.token && !id.session;
const passwordAdmin = (id: Identity) => passwordLogin(id) && !!id.serverAdmin;
/** Server administration other than accounts: an admin by password, or their admin token on `*`. */
const serverAdmin = (id: Identity) => id.valid && !!id.serverAdmin && (!id.token || (id.token.level === 3 && id.token.repos.includes('*')));

interface Call {
  identity: Identity;
  method: string;
  url: string;
  /** The route as its table names it, e.g. `GET /-/api/v1/repositories/{name}` or `pypi GET /simple/:project/`. */
  route: string;
  repo?: RepoInfo;
  params: Record<string, string>;
  body?: unknown;
  rawBody?: Buffer;
  contentType?: string;
  variant?: string;
  accept?: string;
}

const read = (c: Call) => level(c.identity, c.repo!) >= LEVELS.read;
const write = (c: Call) => level(c.identity, c.repo!) >= LEVELS.write;
const admin = (c: Call) => level(c.identity, c.repo!) >= LEVELS.admin;

/** The identity a call is judged as: a session's cookie counts for reads only, and never in the JSON API. */
function effective(c: Call): Call {
  if (!c.identity.session || ((c.method === 'GET' || c.method === 'HEAD') && !c.url.startsWith('/-/api/'))) return c;
  return { ...c, identity: { name: `${c.identity.name} (cookie ignored)`, valid: true, auth: null, address: c.identity.address } };
}

/** What docs/security.md allows, per management API route. */
const API_POLICY: Record<string, (c: Call, repos: Map<string, RepoInfo>) => boolean> = {
  'GET /-/api/v1/whoami': (c) => c.identity.valid,
  'GET /-/api/v1/users': (c) => serverAdmin(c.identity),
  'POST /-/api/v1/users': (c) => passwordAdmin(c.identity),
  'PATCH /-/api/v1/users/{user}': (c) => passwordLogin(c.identity) && (c.params.user === c.identity.user || !!c.identity.serverAdmin),
  'DELETE /-/api/v1/users/{user}': (c) => passwordAdmin(c.identity) && c.params.user !== c.identity.user,
  'PUT /-/api/v1/users/{user}/grants': (c) => passwordAdmin(c.identity),
  'GET /-/api/v1/tokens': (c) => c.identity.valid && !!c.identity.user,
  'POST /-/api/v1/tokens': (c) => passwordLogin(c.identity),
  // The token named is another user's (see samples): only a server admin, by password.
  'DELETE /-/api/v1/tokens/{id}': (c) => passwordAdmin(c.identity),
  'GET /-/api/v1/repositories': (c) => c.identity.valid,
  'POST /-/api/v1/repositories': (c) => serverAdmin(c.identity),
  'GET /-/api/v1/repositories/{name}': read,
  'PATCH /-/api/v1/repositories/{name}': (c, repos) => {
    if (!admin(c)) return false;
    if (c.variant === 'listen' || c.variant === 'upstream') return serverAdmin(c.identity);
    if (c.variant === 'add-private-member') return level(c.identity, repos.get(c.params.added)!) >= LEVELS.read;
    return true;
  },
  'DELETE /-/api/v1/repositories/{name}': (c) => serverAdmin(c.identity),
  'GET /-/api/v1/repositories/{name}/keys': read,
  'POST /-/api/v1/repositories/{name}/keys/rotate': admin,
  'POST /-/api/v1/repositories/{name}/keys/add-signer': admin,
  'GET /-/api/v1/repositories/{name}/packages': read,
  'GET /-/api/v1/repositories/{name}/packages/{package}': read,
  'DELETE /-/api/v1/repositories/{name}/packages/{package}': write,
  'DELETE /-/api/v1/repositories/{name}/packages/{package}/versions/{version}': write,
  'GET /-/api/v1/repositories/{name}/files': read,
  'DELETE /-/api/v1/repositories/{name}/files/{path}': write,
  'POST /-/api/v1/repositories/{name}/upload': write,
  'POST /-/api/v1/repositories/{name}/batch': write,
  // Actions change things, except listing.
  'POST /-/api/v1/repositories/{name}/actions/{action}': (c) => (c.params.action === 'list' ? read(c) : write(c)),
  'GET /-/api/v1/repositories/{name}/snapshots': read,
  'POST /-/api/v1/repositories/{name}/snapshots': write,
  'GET /-/api/v1/repositories/{name}/snapshots/{snapshot}': read,
  'DELETE /-/api/v1/repositories/{name}/snapshots/{snapshot}': write,
  // Forgetting history outright (a leaked secret): server administrators only, as gc.
  'POST /-/api/v1/repositories/{name}/history/purge': (c) => serverAdmin(c.identity),
  'GET /-/api/v1/status': (c) => c.identity.valid,
  'POST /-/api/v1/gc': (c) => serverAdmin(c.identity),
  'POST /-/api/v1/backup': (c) => serverAdmin(c.identity),
  // The whole trail: administrators (a repository's admins read its part with ?repo=, tested in audit.test.ts).
  'GET /-/api/v1/audit': (c) => serverAdmin(c.identity),
  // Routes of the server itself, outside the OpenAPI document.
  'GET /-/api/v1/openapi.json': (c) => c.identity.valid,
  'GET /-/health': () => true,
  'GET /-/metrics': (c) => c.identity.valid,
};

/** Pages for browsers (src/server/pages PAGE_ROUTES): the home page for anyone, sign-in for users, a repository's pages for its readers. */
const PAGE_POLICY: Record<string, (c: Call) => boolean> = {
  '/': (c) => c.identity.valid,
  '/?login': (c) => c.identity.valid && !!c.identity.user,
  '/:repo/': read,
  '/:repo/?setup': read,
  '/-/login': (c) => c.identity.valid,
  '/-/tokens': (c) => c.identity.valid && !!c.identity.session,
  '/-/admin/repositories': (c) => c.identity.valid && !!c.identity.session && !!c.identity.serverAdmin,
  '/-/admin/users': (c) => c.identity.valid && !!c.identity.session && !!c.identity.serverAdmin,
  '/-/admin/audit': (c) => c.identity.valid && !!c.identity.session && !!c.identity.serverAdmin,
  // A package page answers 404, never 401/403, to those who may not read (as for a missing one).
  '/-/package/:repo/:name': read,
  // Search names only what the viewer may read (checked by the leak and naming checks below).
  '/-/search': (c) => c.identity.valid,
  '/-/search.json': (c) => c.identity.valid,
};
/** A browser's Accept, for pages asked for by it. */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/**
 * Protocol routes: the route's own access level, and for content of a group, read on the
 * member that has it. A redirect (to the normalized URL) is content of no member: the
 * group's access is enough for it.
 */
// A group's merged index (an APT suite's files, an Arch db) is built, per request, from the
// members the asker may read: content of no single member (the leak check still looks in it).
const MERGED_INDEX_ROUTES = new Set(['apt GET /dists/*']);

function protocolAllowed(c: Call, access: 'read' | 'write' | 'admin', repos: Map<string, RepoInfo>): { allowed: boolean; redirect: boolean } {
  if (level(c.identity, c.repo!) < LEVELS[access]) return { allowed: false, redirect: false };
  const memberContent = Object.keys(c.params).length > 0 && !MERGED_INDEX_ROUTES.has(c.route);
  const secret = c.repo!.secretMember && memberContent ? repos.get(c.repo!.secretMember)! : undefined;
  return { allowed: !secret || access !== 'read' || level(c.identity, secret) >= LEVELS.read, redirect: true };
}

/**
 * Refusals of calls the policy allows that are known and not security holes (an over-strict
 * check is a bug, but not an unauthorized success). Reported, not failed.
 */
const KNOWN_OVERSTRICT: RegExp[] = [
  // (Issue 8 item 14, Arch `actions/list` needing write, is fixed: readers may list.)
];

// ---- the server under test

/** Passwords are set to what they already are: a PATCH that succeeds changes nothing. */
const passwordOf = (user: string) => (user === 'admin' ? ADMIN_PASSWORD : `${user}-password`);

describe('authorization matrix', () => {
  let server: TestServer;
  let work: string;
  const repos = new Map<string, RepoInfo>();
  const specs = new Map<string, { public: boolean; options: Record<string, unknown> }>();
  /** Options as the server normalized them at creation. */
  const baseline = new Map<string, string>();
  const routesCalled = new Set<string>();
  /** Per repository: the sample values of route parameters (its own seeded content). */
  const samples = new Map<string, Record<string, string>>();
  const identities: Identity[] = [];
  let victimTokenId = '';
  const stats = { calls: 0, unauthorized: [] as string[], leaks: [] as string[], overstrict: [] as string[], allowedOk: 0, serverErrors: [] as string[] };

  const inject = (method: string, url: string, auth: string | null, opts: { body?: unknown; raw?: Buffer; contentType?: string; address?: string; accept?: string; cookie?: string } = {}) =>
    server.app.inject({
      method: method as 'GET',
      url,
      remoteAddress: opts.address ?? '127.0.0.1',
      headers: {
        ...(auth ? { authorization: auth } : {}),
        ...(opts.cookie ? { cookie: opts.cookie } : {}),
        ...(opts.accept ? { accept: opts.accept } : {}),
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(opts.raw ? { 'content-type': opts.contentType ?? 'application/octet-stream' } : {}),
      },
      payload: opts.raw ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined),
    });

  async function adminApi(method: string, path: string, body?: unknown, raw?: Buffer) {
    const r = await inject(method, `/-/api/v1${path}`, server.adminAuth, { body, raw });
    assert.ok(r.statusCode < 300, `${method} ${path}: ${r.statusCode} ${r.body}`);
    return r.body ? JSON.parse(r.body) : null;
  }

  async function createRepo(info: RepoInfo, options: Record<string, unknown> = {}) {
    const spec = { name: info.name, format: info.format, kind: info.kind, public: info.public, options };
    specs.set(info.name, spec);
    repos.set(info.name, info);
    await adminApi('POST', '/repositories', spec);
    baseline.set(info.name, JSON.stringify(server.wharf.requireRepo(info.name).options));
  }

  /** Content for a hosted repository: one package or file whose name carries `marker`. */
  async function seed(info: RepoInfo) {
    const marker = info.marker ?? 'seed';
    const repo = server.wharf.requireRepo(info.name);
    const s: Record<string, string> = {};
    if (info.format === 'pypi') {
      const project = `${marker}pkg`;
      const filename = wheelFilename({ name: project, version: '1.0' });
      if (!(await server.wharf.store.getPackage(repo.id, project))) await adminApi('POST', `/repositories/${info.name}/upload?filename=${filename}`, undefined, buildWheel({ name: project, version: '1.0' }));
      Object.assign(s, { project, filename, version: '1.0', package: project, path: `packages/${project}/${filename}` });
    } else if (info.format === 'files') {
      const path = `dir/${marker}-file.txt`;
      if (!(await server.wharf.store.getFileByPath(repo.id, path))) {
        const r = await inject('PUT', `/${info.name}/${path}`, server.adminAuth, { raw: Buffer.from(`${marker} content\n`) });
        assert.ok(r.statusCode < 300, r.body);
      }
      Object.assign(s, { '*': path, path, package: path, version: '-' });
    } else if (info.format === 'apt') {
      const name = `${marker}deb`;
      if (!(await server.wharf.store.getPackage(repo.id, name))) {
        const deb = await buildDeb(work, `${info.name}-${name}`, control(name, '1.0'));
        await adminApi('POST', `/repositories/${info.name}/upload?filename=${name}_1.0_amd64.deb`, undefined, await readFile(deb));
      }
      const file = (await server.wharf.store.listFilesByPrefix(repo.id, 'pool/')).find((f) => f.filename.startsWith(name))!;
      Object.assign(s, { pool: file.path.slice('pool/'.length), dists: 'stable/main/binary-amd64/Packages', suite: 'stable', component: 'main', filename: `${name}_1.0_amd64.deb`, package: name, version: '1.0', path: file.path });
    } else if (info.format === 'arch') {
      const name = `${marker}pkg`;
      if (!(await server.wharf.store.getPackage(repo.id, name))) {
        const out = join(work, `${info.name}-${name}-1.0-1-x86_64.pkg.tar.zst`);
        const pkginfo = makePkginfo({ pkgname: name, pkgbase: name, pkgver: '1.0-1', pkgdesc: name, url: 'https://example.org/', builddate: '1700000000', packager: 'T <t@example.org>', size: '1', arch: 'x86_64', license: 'MIT' });
        await buildPackage(out, { pkginfo, files: { [`usr/bin/${name}`]: name }, compression: 'zstd' });
        await adminApi('POST', `/repositories/${info.name}/upload?filename=${name}-1.0-1-x86_64.pkg.tar.zst`, undefined, await readFile(out));
      }
      const file = (await server.wharf.store.listFilesByPrefix(repo.id, '')).find((f) => f.filename.startsWith(`${name}-`) && !f.filename.endsWith('.sig'))!;
      Object.assign(s, { arch: 'x86_64', file: file.filename, filename: file.filename, package: name, version: '1.0-1', path: file.path });
    }
    samples.set(info.name, s);
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'wharf-authz-'));
    server = await startServer();
    // Every format, every kind it supports, public and private. Hosted private repositories
    // hold content marked `secret…`; groups list a public and a private hosted member and are
    // asked for the private member's content; `…-vault` is private and in no group.
    for (const f of formats) {
      for (const kind of f.kinds) {
        for (const pub of [true, false]) {
          const name = `${f.format}-${kind}-${pub ? 'pub' : 'priv'}`;
          const info: RepoInfo = { name, format: f.format, kind, public: pub };
          if (kind === 'hosted') {
            info.marker = pub ? `seed${f.format}` : `secret${f.format}`;
            await createRepo(info);
            await seed(info);
          }
        }
      }
      if (f.kinds.includes('group')) await createRepo({ name: `${f.format}-hosted-vault`, format: f.format, kind: 'hosted', public: false });
      for (const pub of [true, false]) {
        const name = `${f.format}-proxy-${pub ? 'pub' : 'priv'}`;
        if (f.kinds.includes('proxy')) {
          await createRepo({ name, format: f.format, kind: 'proxy', public: pub }, { upstream: 'http://127.0.0.1:9/', offline: true });
          samples.set(name, samples.get(`${f.format}-hosted-pub`)!);
        }
        const group = `${f.format}-group-${pub ? 'pub' : 'priv'}`;
        if (f.kinds.includes('group')) {
          await createRepo({ name: group, format: f.format, kind: 'group', public: pub, secretMember: `${f.format}-hosted-priv` }, { members: [`${f.format}-hosted-pub`, `${f.format}-hosted-priv`] });
          samples.set(group, samples.get(`${f.format}-hosted-priv`)!);
        }
      }
      samples.set(`${f.format}-hosted-vault`, samples.get(`${f.format}-hosted-pub`)!);
    }

    // Users and their grants; tokens of every sort.
    const users: [string, [string, Level][]][] = [
      ['nogrant', []],
      ['reader', [['*', 1]]],
      ['writer', [['*', 2]]],
      // A repository admin of groups, proxies and public repositories, without read on the
      // private hosted members (the group admin of defect 3).
      ['repoadmin', [['*-group-*', 3], ['*-proxy-*', 3], ['*-pub', 3]]],
      ['victim', []],
    ];
    for (const [name, grants] of users) {
      await adminApi('POST', '/users', { name, password: `${name}-password` });
      for (const [repo, l] of grants) await adminApi('PUT', `/users/${name}/grants`, { repo, permission: (['none', 'read', 'write', 'admin'] as const)[l] });
    }
    const tokenOf = async (user: string, body: object) => {
      const r = await inject('POST', '/-/api/v1/tokens', basic(user, passwordOf(user)), { body });
      assert.equal(r.statusCode, 201, r.body);
      return JSON.parse(r.body) as { id: string; token: string };
    };
    const readToken = await tokenOf('writer', { name: 'read', repos: ['*'], permission: 'read' });
    const otherWrite = await tokenOf('writer', { name: 'other', repos: ['files-hosted-vault'], permission: 'write' });
    const adminToken = await tokenOf('admin', { name: 'cli', repos: ['*'], permission: 'admin' });
    const revoked = await tokenOf('writer', { name: 'revoked', repos: ['*'], permission: 'write' });
    await adminApi('DELETE', `/tokens/${revoked.id}`);
    const expired = await tokenOf('writer', { name: 'expired', repos: ['*'], permission: 'write', expiresInDays: 0.00001 });
    victimTokenId = (await tokenOf('victim', { name: 'victim' })).id;
    await new Promise((r) => setTimeout(r, 1500)); // the expired token's second passes

    const grantsOf = (u: string) => users.find(([n]) => n === u)![1];
    let n = 10;
    const id = (o: Omit<Identity, 'address'>): Identity => ({ ...o, address: `198.51.100.${n++}` });
    identities.push(
      id({ name: 'anonymous', valid: true, auth: null }),
      id({ name: 'wrong password', valid: false, auth: basic('reader', 'not-the-password') }),
      id({ name: 'user without grant', valid: true, user: 'nogrant', grants: [], auth: basic('nogrant', 'nogrant-password') }),
      id({ name: 'reader', valid: true, user: 'reader', grants: grantsOf('reader'), auth: basic('reader', 'reader-password') }),
      id({ name: 'writer', valid: true, user: 'writer', grants: grantsOf('writer'), auth: basic('writer', 'writer-password') }),
      id({ name: 'repository admin', valid: true, user: 'repoadmin', grants: grantsOf('repoadmin'), auth: basic('repoadmin', 'repoadmin-password') }),
      id({ name: 'read token', valid: true, user: 'writer', grants: grantsOf('writer'), token: { level: 1, repos: ['*'] }, auth: `Bearer ${readToken.token}` }),
      id({ name: 'write token for another repository', valid: true, user: 'writer', grants: grantsOf('writer'), token: { level: 2, repos: ['files-hosted-vault'] }, auth: basic('__token__', otherWrite.token) }),
      id({ name: 'expired token', valid: false, auth: `Bearer ${expired.token}` }),
      id({ name: 'revoked token', valid: false, auth: `Bearer ${revoked.token}` }),
      id({ name: 'server admin\'s admin token', valid: true, user: 'admin', serverAdmin: true, grants: [], token: { level: 3, repos: ['*'] }, auth: `Bearer ${adminToken.token}` }),
      id({ name: 'server admin', valid: true, user: 'admin', serverAdmin: true, grants: [], auth: server.adminAuth }),
      id({ name: 'writer\'s browser session', valid: true, user: 'writer', grants: grantsOf('writer'), session: true, auth: null }),
      id({ name: 'server admin\'s browser session', valid: true, user: 'admin', serverAdmin: true, grants: [], session: true, auth: null }),
    );
  });
  after(async () => {
    await server.close();
    await rm(work, { recursive: true, force: true });
  });

  // ---- the calls

  const fill = (template: string, params: Record<string, string>, style: 'openapi' | 'router') => {
    const re = style === 'openapi' ? /\{([A-Za-z]+)\}/g : /:([A-Za-z]+)|\*/g;
    return template.replace(re, (m, name: string | undefined) => {
      const key = name ?? '*';
      const v = params[key];
      if (v === undefined) throw new Error(`no sample for ${m} in ${template}: add one to the matrix`);
      return key === '*' || key === 'path' ? v.split('/').map(encodeURIComponent).join('/') : encodeURIComponent(v);
    });
  };

  /** Made one at a time, so each call names what exists now (a restored user's new token). */
  function* apiCalls(openapi: { paths: Record<string, Record<string, unknown>> }, identity: Identity): Generator<Call> {
    const extra: [string, string][] = [['get', '/-/api/v1/openapi.json'], ['get', '/-/health'], ['get', '/-/metrics']];
    const routes = [...Object.entries(openapi.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => [m, path] as [string, string])), ...extra];
    let unique = 0;
    for (const [m, path] of routes) {
      const method = m.toUpperCase();
      const route = `${method} ${path}`;
      const base = { identity, method, route };
      if (!path.includes('{name}')) {
        const variants: Partial<Call>[] = [];
        if (path.includes('{user}')) for (const user of [...new Set([identity.user ?? 'victim', 'victim'])]) variants.push({ params: { user } });
        else if (path.includes('{id}')) variants.push({ params: { id: victimTokenId } });
        else variants.push({ params: {} });
        for (const v of variants) {
          const body = method === 'POST' && path.endsWith('/users') ? { name: `made${unique++}x${identity.address.split('.').pop()}`, password: 'made-password-1' }
            : method === 'POST' && path.endsWith('/repositories') ? { name: `made${unique++}x${identity.address.split('.').pop()}`, format: 'files' }
            : method === 'POST' && path.endsWith('/tokens') ? { name: 'matrix', repos: ['files-hosted-pub'], permission: 'read' }
            : method === 'POST' && path.endsWith('/backup') ? { dir: join(work, `backup-${unique++}`) }
            : method === 'PATCH' ? { password: passwordOf(v.params!.user) }
            : method === 'PUT' ? { repo: 'matrix-nothing', permission: 'read' }
            : undefined;
          yield ({ ...base, url: fill(path, v.params!, 'openapi'), params: v.params!, body });
        }
        continue;
      }
      for (const repo of repos.values()) {
        const s = samples.get(repo.name) ?? {};
        const plugin = formats.find((f) => f.format === repo.format)!;
        const actions = path.includes('{action}') ? Object.keys(plugin.actions ?? {}) : [''];
        for (const action of actions) {
          const params: Record<string, string> = { name: repo.name, package: s.package ?? 'none', version: s.version ?? '0', path: s.path ?? 'none', action, snapshot: 'none' };
          const url = fill(path, params, 'openapi');
          if (method === 'PATCH') {
            yield ({ ...base, repo, url, params, body: { public: repo.public } });
            yield ({ ...base, repo, url, params, body: { options: { listen: 0 } }, variant: 'listen' });
            if (repo.kind === 'proxy') yield ({ ...base, repo, url, params, body: { options: { upstream: 'http://127.0.0.1:9/elsewhere/' } }, variant: 'upstream' });
            if (repo.kind === 'group') {
              const added = `${repo.format}-hosted-vault`;
              const members = server.wharf.requireRepo(repo.name).options.members as string[];
              yield ({ ...base, repo, url, params: { ...params, added }, body: { options: { members: [...members, added] } }, variant: 'add-private-member' });
            }
          } else if (path.endsWith('/upload')) {
            const filename = repo.format === 'files' ? 'dir/matrix-upload.txt' : s.filename ?? 'x';
            yield ({ ...base, repo, url: `${url}?filename=${encodeURIComponent(filename)}`, params, rawBody: Buffer.from('matrix upload\n') });
          } else {
            yield ({ ...base, repo, url, params, body: method === 'POST' ? {} : undefined });
          }
        }
      }
    }
  }

  function protocolCalls(identity: Identity): { call: Call; access: 'read' | 'write' | 'admin' }[] {
    const out: { call: Call; access: 'read' | 'write' | 'admin' }[] = [];
    for (const repo of repos.values()) {
      const plugin: FormatPlugin = formats.find((f) => f.format === repo.format)!;
      const s = samples.get(repo.name)!;
      for (const r of plugin.routes) {
        // `*` means different things per route: the files path, the APT pool or dists path.
        const star = r.path.startsWith('/pool/') ? s.pool : r.path.startsWith('/dists/') ? s.dists : s['*'];
        const params = { ...s, ...(star !== undefined ? { '*': star } : {}) };
        const used: Record<string, string> = {};
        for (const m of r.path.matchAll(/:([A-Za-z]+)|\*/g)) used[m[1] ?? '*'] = (params as Record<string, string>)[m[1] ?? '*'];
        const url = `/${repo.name}${fill(r.path, params, 'router')}`;
        const methods = r.method === 'GET' ? ['GET', 'HEAD'] : [r.method];
        for (const method of methods) {
          const call: Call = { identity, method, url, route: `${repo.format} ${r.method} ${r.path}`, repo, params: used };
          if (method === 'PUT') call.rawBody = Buffer.from('matrix upload\n');
          if (method === 'POST') {
            call.rawBody = Buffer.from('--b\r\nContent-Disposition: form-data; name=":action"\r\n\r\nfile_upload\r\n--b--\r\n');
            call.contentType = 'multipart/form-data; boundary=b';
          }
          out.push({ call, access: r.access });
        }
      }
    }
    return out;
  }

  function* pageCalls(identity: Identity): Generator<Call> {
    for (const r of PAGE_ROUTES) {
      const accept = r.page === 'accept' ? BROWSER_ACCEPT : undefined;
      const route = `page GET ${r.path}`;
      if (!r.path.includes(':repo')) {
        // Search for what private repositories hold: only readers may see it.
        const url = r.path.startsWith('/-/search') ? `${r.path}?q=secret` : r.path;
        yield { identity, method: 'GET', url, route, params: {}, accept };
        continue;
      }
      for (const repo of repos.values()) {
        // A package page asks for the package the repository's samples name (a group's: its private member's).
        const name = encodeURIComponent(samples.get(repo.name)?.package ?? 'nothing');
        yield { identity, method: 'GET', url: r.path.replace(':repo', repo.name).replace(':name', name), route, repo, params: { repo: repo.name }, accept };
      }
    }
  }

  /** Repositories a page must not name to this identity (a whole name, not a prefix of another). */
  const unreadableNamed = (identity: Identity, body: string) =>
    server.wharf.listRepos().filter((r) => level(identity, { name: r.name, public: r.publicRead }) < LEVELS.read)
      .map((r) => r.name).filter((name) => new RegExp(`(?<![\\w-])${name}(?![\\w-])`).test(body));

  /** Put back what an allowed call changed, so later identities meet the same state. */
  async function restore(c: Call) {
    if (c.method === 'GET' || c.method === 'HEAD') return;
    for (const [name, spec] of specs) {
      const live = server.wharf.repo(name);
      if (!live) await adminApi('POST', '/repositories', spec);
      else if (JSON.stringify(live.options) !== baseline.get(name) || live.publicRead !== spec.public) {
        await server.wharf.updateRepo(name, { public: spec.public, options: { ...spec.options, listen: null } });
        assert.equal(JSON.stringify(server.wharf.requireRepo(name).options), baseline.get(name), `${name} restored`);
      }
    }
    for (const info of repos.values()) if (info.kind === 'hosted' && info.marker) await seed(info);
    if (!(await server.wharf.store.getTokenById(victimTokenId))) {
      const victim = await server.wharf.store.getUserByName('victim');
      if (!victim) await adminApi('POST', '/users', { name: 'victim', password: 'victim-password' });
      const r = await inject('POST', '/-/api/v1/tokens', basic('victim', 'victim-password'), { body: { name: 'victim' } });
      victimTokenId = JSON.parse(r.body).id;
    }
  }

  const markersFor = (identity: Identity) =>
    [...repos.values()].filter((r) => r.marker && level(identity, r) < LEVELS.read).map((r) => r.marker!);

  async function check(c: Call, allowed: boolean, redirectAllowed = allowed) {
    const r = await inject(c.method, c.url, c.identity.auth, { body: c.body, raw: c.rawBody, contentType: c.contentType, address: c.identity.address, accept: c.accept, cookie: c.identity.cookie });
    stats.calls++;
    routesCalled.add(c.route);
    const ok = r.statusCode < 400 && !(redirectAllowed && r.statusCode >= 300);
    const label = `${c.identity.name}: ${c.method} ${c.url}${c.variant ? ` (${c.variant})` : ''} -> ${r.statusCode}`;
    if (process.env.WHARF_AUTHZ_VERBOSE) console.log(`${allowed ? 'allow' : 'deny '} ${label}`);
    if (r.statusCode >= 500) stats.serverErrors.push(`${label} ${r.body.slice(0, 200)}`);
    if (ok && !allowed) stats.unauthorized.push(`${label} [${c.route}]`);
    if (ok && allowed) stats.allowedOk++;
    if (ok) for (const m of markersFor(c.identity)) if (r.body.includes(m)) stats.leaks.push(`${label}: body contains ${m}`);
    if (ok && c.route.startsWith('page ')) {
      for (const name of unreadableNamed(c.identity, r.body)) stats.leaks.push(`${label}: page names ${name}`);
      if (c.route === 'page GET /' || c.route === 'page GET /?login') {
        // The home page names every repository this identity may read.
        for (const repo of server.wharf.listRepos()) {
          if (level(c.identity, { name: repo.name, public: repo.publicRead }) >= LEVELS.read && !r.body.includes(`href="/${repo.name}/`)) stats.overstrict.push(`${label}: home page lacks ${repo.name} UNEXPECTED`);
        }
      }
    }
    if (allowed && (r.statusCode === 401 || r.statusCode === 403)) {
      if (!c.identity.valid) stats.overstrict.push(label);
      else if (KNOWN_OVERSTRICT.some((re) => re.test(c.url))) stats.overstrict.push(`${label} (known)`);
      else stats.overstrict.push(`${label} UNEXPECTED ${r.body.slice(0, 160)}`);
    }
    if (ok && c.method !== 'GET' && c.method !== 'HEAD') await restore(c);
  }

  it('allows nothing that docs/security.md does not allow', async () => {
    const openapi = JSON.parse((await inject('GET', '/-/api/v1/openapi.json', null)).body);
    const started = Date.now();
    for (const identity of identities) {
      // Signed in when its turn comes: an earlier identity's password change (to the same
      // password) ends the user's sessions, as it should.
      if (identity.session) identity.cookie = `wharf_session=${(await server.wharf.sessions.create((await server.wharf.store.getUserByName(identity.user!))!)).secret}`;

      for (const c of apiCalls(openapi, identity)) {
        const policy = API_POLICY[c.route];
        assert.ok(policy, `no policy for ${c.route}: add it to API_POLICY (and docs/security.md)`);
        await check(c, policy(effective(c), repos));
      }
      for (const { call, access } of protocolCalls(identity)) {
        const { allowed, redirect } = protocolAllowed(effective(call), access, repos);
        await check(call, allowed, redirect);
      }
      for (const call of pageCalls(identity)) {
        const policy = PAGE_POLICY[call.route.slice('page GET '.length)];
        assert.ok(policy, `no policy for ${call.route}: add it to PAGE_POLICY (and docs/security.md)`);
        // A page that sends its viewer to sign in (303) shows nothing: not a success.
        await check(call, policy(call), true);
      }
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const unexpected = stats.overstrict.filter((s) => s.includes('UNEXPECTED'));
    console.log(`authz matrix: ${stats.calls} calls by ${identities.length} identities over ${repos.size} repositories in ${seconds} s; ` +
      `${stats.allowedOk} allowed successes, ${stats.unauthorized.length} unauthorized successes, ${stats.leaks.length} leaks, ` +
      `${stats.overstrict.length - unexpected.length} known refusals of allowed calls, ${unexpected.length} unexpected, ${stats.serverErrors.length} 5xx`);
    for (const line of [...stats.unauthorized.map((x) => `UNAUTHORIZED ${x}`), ...stats.leaks.map((x) => `LEAK ${x}`), ...stats.overstrict, ...stats.serverErrors]) console.log(`  ${line}`);
    assert.deepEqual(stats.unauthorized, [], 'successes the policy does not allow');
    assert.deepEqual(stats.leaks, [], 'private content in answers to those who may not read it');
    assert.deepEqual(unexpected, [], 'allowed calls refused');
    assert.deepEqual(stats.serverErrors, [], 'server errors');
    assert.ok(stats.allowedOk > stats.calls / 10, 'the matrix exercises allowed calls too');
    // Every route of every format and of the API document was called.
    for (const f of formats) for (const r of f.routes) assert.ok(routesCalled.has(`${f.format} ${r.method} ${r.path}`), `${f.format} ${r.method} ${r.path} not called`);
    for (const r of PAGE_ROUTES) assert.ok(routesCalled.has(`page GET ${r.path}`), `page ${r.path} not called`);
    for (const [path, ops] of Object.entries(openapi.paths as Record<string, object>)) {
      for (const m of Object.keys(ops)) assert.ok(routesCalled.has(`${m.toUpperCase()} ${path}`), `${m} ${path} not called`);
    }
  });
});
