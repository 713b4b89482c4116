// /-/api/v1/repositories/:name/snapshots: named snapshots of a hosted repository (time
// travel, core/time-travel.ts). Reading needs read permission, creating and deleting write;
// both changes are in the audit trail. A snapshot is served at /<repo>/@<name>/.
import type { FastifyRequest } from 'fastify';
import { badRequest, notFound } from '../../core/errors.ts';
import type { Wharf } from '../../core/wharf.ts';
import type { Snapshot } from '../../db/history-store.ts';
import type { ApiRoute } from './define.ts';
import { requireRepo, requireServerAdmin } from './guards.ts';
import { uploaderName } from '../../core/auth/principal.ts';

const view = (repo: string, s: Snapshot) => ({ ...s, url: `/${repo}/@${s.name}/` });

export function snapshotRoutes(wharf: Wharf): ApiRoute[] {
  const p = (req: FastifyRequest) => req.params as { name: string; snapshot: string };
  return [
    {
      method: 'GET', url: '/repositories/:name/snapshots', tag: 'snapshots', summary: 'List the named snapshots of a hosted repository',
      handler: async (req) => {
        const repo = requireRepo(wharf, req, p(req).name, 'read');
        return { snapshots: (await wharf.timeTravel.listSnapshots(repo)).map((s) => view(repo.name, s)) };
      },
    },
    {
      method: 'POST', url: '/repositories/:name/snapshots', tag: 'snapshots',
      summary: 'Name the repository as it is now, or as it was `at` an instant within its history (historyDays); served at /<repo>/@<name>/',
      body: {
        // `name` is checked by the handler, after the permission: a 400 must not answer who may not write.
        type: 'object', additionalProperties: false,
        properties: { name: { type: 'string', maxLength: 64 }, at: { type: 'string', maxLength: 64 } },
      },
      handler: async (req, reply) => {
        const repo = requireRepo(wharf, req, p(req).name, 'write');
        const body = (req.body ?? {}) as { name?: string; at?: string };
        if (body.name === undefined) throw badRequest('give the snapshot a "name" (and optionally "at", an instant)');
        const s = await wharf.timeTravel.createSnapshot(repo, body.name, body.at, uploaderName(req.principal) ?? null);
        return reply.code(201).send(view(repo.name, s));
      },
    },
    {
      method: 'GET', url: '/repositories/:name/snapshots/:snapshot', tag: 'snapshots', summary: 'Show one snapshot',
      handler: async (req) => {
        const repo = requireRepo(wharf, req, p(req).name, 'read');
        const s = await wharf.timeTravel.history.getSnapshot(repo.id, p(req).snapshot);
        if (!s) throw notFound(`${repo.name} has no snapshot ${p(req).snapshot}`);
        return view(repo.name, s);
      },
    },
    {
      method: 'DELETE', url: '/repositories/:name/snapshots/:snapshot', tag: 'snapshots', summary: 'Delete a snapshot (what only it kept is dropped by the next gc)',
      handler: async (req, reply) => {
        const repo = requireRepo(wharf, req, p(req).name, 'write');
        await wharf.timeTravel.deleteSnapshot(repo, p(req).snapshot);
        return reply.code(204).send();
      },
    },
    {
      method: 'POST', url: '/repositories/:name/history/purge', tag: 'snapshots',
      summary: 'Administrators: forget a deleted file from every instant and snapshot at once (a leaked secret); gc then frees its bytes',
      body: { type: 'object', additionalProperties: false, required: ['path'], properties: { path: { type: 'string', minLength: 1, maxLength: 4096 } } },
      handler: async (req) => {
        requireServerAdmin(req);
        const repo = requireRepo(wharf, req, p(req).name, 'read');
        const { path } = req.body as { path: string };
        return { path, rows: await wharf.timeTravel.purge(repo, path) };
      },
    },
  ];
}
