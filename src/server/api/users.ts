// /-/api/v1/users and /-/api/v1/tokens: accounts, per-repository grants and API tokens.
import * as accounts from '../../core/auth/account-changes.ts';
import { importedScheme, whyNotImportable } from '../../core/auth/imported-hashes.ts';
import { hashPassword, NO_PASSWORD } from '../../core/auth/passwords.ts';
import { isValidRepoPattern } from '../../core/auth/patterns.ts';
import { isServerAdmin } from '../../core/auth/principal.ts';
import { generateToken, hashToken } from '../../core/auth/tokens.ts';
import { badRequest, conflict, forbidden, notFound } from '../../core/errors.ts';
import type { Permission, TokenRow, User } from '../../core/model.ts';
import { PERMISSIONS } from '../../core/model.ts';
import type { Wharf } from '../../core/wharf.ts';
import type { ApiRoute } from './define.ts';
import { requirePasswordLogin, requireServerAdmin, requireUser } from './guards.ts';

export const USER_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const MIN_PASSWORD = 8;

const userView = async (wharf: Wharf, u: User) => ({
  name: u.name, admin: u.isAdmin, createdAt: u.createdAt,
  // False for a user created without one (a migration's): only a token logs in as them.
  hasPassword: u.passwordHash !== NO_PASSWORD,
  grants: (await wharf.store.listGrants(u.id)).map((g) => ({ repo: g.repoPattern, permission: g.permission })),
});
const tokenView = async (wharf: Wharf, t: TokenRow) => ({
  id: t.id, name: t.name, user: (await wharf.store.getUserById(t.userId))?.name, repos: t.repos, permission: t.permission,
  expiresAt: t.expiresAt, createdAt: t.createdAt, lastUsedAt: t.lastUsedAt,
});

async function findUser(wharf: Wharf, name: string): Promise<User> {
  const u = await wharf.store.getUserByName(name);
  if (!u) throw notFound(`no user named ${name}`);
  return u;
}

export function userRoutes(wharf: Wharf): ApiRoute[] {
  return [
    {
      method: 'GET', url: '/whoami', tag: 'users', summary: 'The authenticated user, and the token used if any',
      handler: async (req) => {
        const p = req.principal;
        if (p.kind === 'anonymous') return { user: null };
        return { user: await userView(wharf, p.user), token: p.kind === 'token' ? await tokenView(wharf, p.token) : null };
      },
    },
    {
      method: 'GET', url: '/users', tag: 'users', summary: 'List users (administrators)',
      handler: async (req) => {
        requireServerAdmin(req);
        return { users: await Promise.all((await wharf.store.listUsers()).map((u) => userView(wharf, u))) };
      },
    },
    {
      method: 'POST', url: '/users', tag: 'users',
      summary: 'Create a user (administrators); without a password, only a token minted for them logs in until one is set; with `passwordHash` instead, a hash imported from another tool (bcrypt, {SHA}, apr1: docs/migrate.md), replaced by scrypt at the first login',
      body: {
        type: 'object', required: ['name'], additionalProperties: false,
        properties: { name: { type: 'string' }, password: { type: 'string', maxLength: 1024 }, passwordHash: { type: 'string', maxLength: 200 }, admin: { type: 'boolean' } },
      },
      handler: async (req, reply) => {
        requirePasswordLogin(req);
        requireServerAdmin(req);
        const { name, password, passwordHash, admin } = req.body as { name: string; password?: string; passwordHash?: string; admin?: boolean };
        if (!USER_RE.test(name) || name === '__token__') throw badRequest(`invalid user name ${JSON.stringify(name)}`);
        if (password !== undefined && passwordHash !== undefined) throw badRequest('give password or passwordHash, not both');
        if (password !== undefined && password.length < MIN_PASSWORD) throw badRequest(`passwords need at least ${MIN_PASSWORD} characters`);
        // Only hashes of the imported kinds: never Wharf's own format (whose cost parameters a
        // caller would choose) nor plain text.
        if (passwordHash !== undefined && !importedScheme(passwordHash)) throw badRequest(`not an importable password hash: ${whyNotImportable(passwordHash)}`);
        if (await wharf.store.getUserByName(name)) throw conflict(`user ${name} already exists`);
        // Checked again with the insert: another request may create the name while we hash.
        const user = await accounts.createUser(wharf.store, name, passwordHash ?? (password === undefined ? NO_PASSWORD : await hashPassword(password)), admin ?? false);
        if (!user) throw conflict(`user ${name} already exists`);
        return reply.code(201).send(await userView(wharf, user));
      },
    },
    {
      method: 'PATCH', url: '/users/:user', tag: 'users', summary: 'Change a password (yours, or anyone\'s as administrator) or admin status (password login only)',
      body: { type: 'object', additionalProperties: false, properties: { password: { type: 'string', maxLength: 1024 }, admin: { type: 'boolean' } } },
      handler: async (req) => {
        const me = requirePasswordLogin(req);
        const target = await findUser(wharf, (req.params as { user: string }).user);
        const body = req.body as { password?: string; admin?: boolean };
        const admin = isServerAdmin(req.principal);
        if (target.id !== me.id && !admin) throw forbidden('only administrators change other users');
        if (body.admin !== undefined && !admin) throw forbidden('only administrators change admin status');
        if (body.password !== undefined) {
          if (body.password.length < MIN_PASSWORD) throw badRequest(`passwords need at least ${MIN_PASSWORD} characters`);
          await accounts.setPassword(wharf.store, target, await hashPassword(body.password));
          wharf.auth.forget();
        }
        if (body.admin !== undefined) await accounts.setAdmin(wharf.store, target, body.admin);
        // Deleted meanwhile by another request: nothing left to show.
        const updated = await wharf.store.getUserById(target.id);
        if (!updated) throw notFound(`no user named ${target.name}`);
        return userView(wharf, updated);
      },
    },
    {
      method: 'DELETE', url: '/users/:user', tag: 'users', summary: 'Delete a user and their tokens (administrators)',
      handler: async (req, reply) => {
        requirePasswordLogin(req);
        const me = requireServerAdmin(req);
        const target = await findUser(wharf, (req.params as { user: string }).user);
        if (target.id === me.id) throw badRequest('you cannot delete yourself');
        await accounts.deleteUser(wharf.store, target);
        wharf.auth.forget();
        return reply.code(204).send();
      },
    },
    {
      method: 'PUT', url: '/users/:user/grants', tag: 'users', summary: 'Grant a user read, write or admin on repositories matching a pattern (permission null revokes)',
      body: {
        type: 'object', required: ['repo', 'permission'], additionalProperties: false,
        properties: { repo: { type: 'string' }, permission: { anyOf: [{ type: 'string', enum: [...PERMISSIONS] }, { type: 'null' }] } },
      },
      handler: async (req) => {
        requirePasswordLogin(req);
        requireServerAdmin(req);
        const target = await findUser(wharf, (req.params as { user: string }).user);
        const { repo, permission } = req.body as { repo: string; permission: Permission | null };
        if (!isValidRepoPattern(repo)) throw badRequest(`invalid repository pattern ${JSON.stringify(repo)}`);
        await accounts.setGrant(wharf.store, target, repo, permission);
        return userView(wharf, target);
      },
    },
    {
      method: 'GET', url: '/tokens', tag: 'tokens', summary: 'List your tokens (administrators: `?all=true` lists everyone\'s)',
      querystring: { type: 'object', properties: { all: { type: 'boolean' } } },
      handler: async (req) => {
        const me = requireUser(req);
        const all = (req.query as { all?: boolean }).all === true;
        if (all) requireServerAdmin(req);
        return { tokens: await Promise.all((await wharf.store.listTokens(all ? undefined : me.id)).map((t) => tokenView(wharf, t))) };
      },
    },
    {
      method: 'POST', url: '/tokens', tag: 'tokens', summary: 'Create a token (password login only); the secret is in the answer and never shown again',
      body: {
        type: 'object', required: ['name'], additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 100 },
          repos: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 100 },
          permission: { type: 'string', enum: [...PERMISSIONS] },
          expiresAt: { type: 'string', format: 'date-time' },
          expiresInDays: { type: 'number', minimum: 0 },
          user: { type: 'string' },
        },
      },
      handler: async (req, reply) => {
        const me = requirePasswordLogin(req);
        const body = req.body as { name: string; repos?: string[]; permission?: Permission; expiresAt?: string; expiresInDays?: number; user?: string };
        const owner = body.user && body.user !== me.name ? (requireServerAdmin(req), await findUser(wharf, body.user)) : me;
        const repos = body.repos ?? ['*'];
        for (const r of repos) if (!isValidRepoPattern(r)) throw badRequest(`invalid repository pattern ${JSON.stringify(r)}`);
        let expiresAt: string | null = null;
        if (body.expiresAt) expiresAt = new Date(body.expiresAt).toISOString();
        else if (body.expiresInDays !== undefined) expiresAt = new Date(Date.now() + body.expiresInDays * 86_400_000).toISOString();
        if (expiresAt && Date.parse(expiresAt) <= Date.now()) throw badRequest('the expiry is in the past');
        const { id, token } = generateToken();
        const row = await accounts.createToken(wharf.store, owner, { id, name: body.name, secretHash: hashToken(token), repos, permission: body.permission ?? 'write', expiresAt });
        return reply.code(201).send({ ...(await tokenView(wharf, row)), token });
      },
    },
    {
      method: 'DELETE', url: '/tokens/:id', tag: 'tokens', summary: 'Revoke a token (yours, or any as administrator; a token may revoke itself)',
      handler: async (req, reply) => {
        const me = requireUser(req);
        const t = await wharf.store.getTokenById((req.params as { id: string }).id);
        // A token may give itself up (only ever less power); anything else needs a password login.
        const self = req.principal.kind === 'token' && t?.id === req.principal.token.id;
        if (!self) requirePasswordLogin(req);
        if (!t || (t.userId !== me.id && !isServerAdmin(req.principal))) throw notFound('no such token');
        await accounts.revokeToken(wharf.store, t);
        return reply.code(204).send();
      },
    },
  ];
}
