// /-/api/v1/repositories: create, list, show, change and delete repositories.
import { can, type Principal } from '../../core/auth/principal.ts';
import { optionChangeRefusal } from '../../core/auth/repo-options.ts';
import { badRequest } from '../../core/errors.ts';
import type { Repository } from '../../core/model.ts';
import { REPO_KINDS } from '../../core/model.ts';
import type { Wharf } from '../../core/wharf.ts';
import type { ApiRoute } from './define.ts';
import { requireRepo, requireServerAdmin } from './guards.ts';

/** Options as `principal` may see them: an upstream's password only to the repository's admins. */
function visibleOptions(repo: Repository, principal: Principal | undefined): Record<string, unknown> {
  if (!('password' in repo.options) || (principal && can(principal, repo, 'admin'))) return repo.options;
  const { password: _secret, ...rest } = repo.options;
  return { ...rest, password: '(set)' };
}

export async function repoView(wharf: Wharf, repo: Repository, principal?: Principal) {
  return {
    name: repo.name,
    format: repo.format,
    kind: repo.kind,
    public: repo.publicRead,
    options: visibleOptions(repo, principal),
    createdAt: repo.createdAt,
    url: `/${repo.name}/`,
    stats: await wharf.store.repoStats(repo.id),
  };
}

export function repositoryRoutes(wharf: Wharf): ApiRoute[] {
  return [
    {
      method: 'GET', url: '/repositories', tag: 'repositories', summary: 'List the repositories the caller can read',
      handler: async (req) => ({ repositories: await Promise.all(wharf.listRepos().filter((r) => can(req.principal, r, 'read')).map((r) => repoView(wharf, r, req.principal))) }),
    },
    {
      method: 'POST', url: '/repositories', tag: 'repositories', summary: 'Create a repository (administrators)',
      body: {
        type: 'object', required: ['name', 'format'], additionalProperties: false,
        properties: {
          name: { type: 'string', maxLength: 64 }, format: { type: 'string', maxLength: 32 },
          kind: { type: 'string', enum: [...REPO_KINDS] }, public: { type: 'boolean' }, options: { type: 'object' },
        },
      },
      handler: async (req, reply) => {
        requireServerAdmin(req);
        const body = req.body as { name: string; format: string; kind?: 'hosted'; public?: boolean; options?: Record<string, unknown> };
        const repo = await wharf.createRepo(body);
        return reply.code(201).send(await repoView(wharf, repo, req.principal));
      },
    },
    {
      method: 'GET', url: '/repositories/:name', tag: 'repositories', summary: 'Show a repository with its counts',
      handler: async (req) => repoView(wharf, requireRepo(wharf, req, (req.params as { name: string }).name, 'read'), req.principal),
    },
    {
      method: 'PATCH', url: '/repositories/:name', tag: 'repositories', summary: 'Change access or options of a repository (listen, aliases and a proxy\'s upstream: administrators; group members: read on each one added)',
      body: { type: 'object', additionalProperties: false, properties: { public: { type: 'boolean' }, options: { type: 'object' } } },
      handler: async (req) => {
        const { name } = req.params as { name: string };
        const repo = requireRepo(wharf, req, name, 'admin');
        const patch = req.body as { public?: boolean; options?: Record<string, unknown> };
        const refusal = patch.options && optionChangeRefusal(req.principal, repo, patch.options, (n) => wharf.repo(n));
        if (refusal) throw refusal;
        return repoView(wharf, await wharf.updateRepo(name, patch), req.principal);
      },
    },
    {
      method: 'DELETE', url: '/repositories/:name', tag: 'repositories', summary: 'Delete a repository and everything in it (administrators)',
      handler: async (req, reply) => {
        requireServerAdmin(req);
        await wharf.deleteRepo((req.params as { name: string }).name);
        return reply.code(204).send();
      },
    },
  ];
}

/** /-/api/v1/repositories/:name/keys: the signing keys of repositories that sign (APT, Arch). */
export function repositoryKeyRoutes(wharf: Wharf): ApiRoute[] {
  return [
    {
      method: 'GET', url: '/repositories/:name/keys', tag: 'repositories', summary: 'Fingerprints of the keys that sign this repository',
      handler: async (req) => {
        const repo = requireRepo(wharf, req, (req.params as { name: string }).name, 'read');
        return { keys: await wharf.keys.describe(repo), publicKey: `/${repo.name}/key.asc` };
      },
    },
    {
      method: 'POST', url: '/repositories/:name/keys/rotate', tag: 'repositories',
      summary: 'Sign with a new key (generated, or the armored private key given); current keys go on signing for graceDays (default 30)',
      body: { type: 'object', additionalProperties: false, properties: { armoredPrivateKey: { type: 'string', maxLength: 65536 }, passphrase: { type: 'string' }, graceDays: { type: 'number', minimum: 0 } } },
      handler: async (req) => {
        const repo = requireRepo(wharf, req, (req.params as { name: string }).name, 'admin');
        await wharf.rotateKeys(repo, req.body as { armoredPrivateKey?: string; passphrase?: string; graceDays?: number });
        return { keys: await wharf.keys.describe(repo) };
      },
    },
    {
      method: 'POST', url: '/repositories/:name/keys/add-signer', tag: 'repositories',
      summary: 'Sign also with this armored private key (e.g. the key of the repository being migrated) for graceDays (default 30); the current keys stay',
      body: { type: 'object', additionalProperties: false, properties: { armoredPrivateKey: { type: 'string', maxLength: 65536 }, passphrase: { type: 'string' }, graceDays: { type: 'number', minimum: 0 } } },
      handler: async (req) => {
        const repo = requireRepo(wharf, req, (req.params as { name: string }).name, 'admin');
        const body = (req.body ?? {}) as { armoredPrivateKey?: string; passphrase?: string; graceDays?: number };
        // Checked after the permission: a caller without it learns nothing from the body.
        if (body.armoredPrivateKey === undefined) throw badRequest('armoredPrivateKey is required: the armored secret key to sign with');
        const added = await wharf.addSigner(repo, { ...body, armoredPrivateKey: body.armoredPrivateKey, graceDays: body.graceDays ?? 30 });
        return { added, keys: await wharf.keys.describe(repo) };
      },
    },
  ];
}
