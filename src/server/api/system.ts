// /-/api/v1/status and /-/api/v1/gc: what the server holds, and freeing unreferenced blobs.
import { can } from '../../core/auth/principal.ts';
import type { Wharf } from '../../core/wharf.ts';
import type { ApiRoute } from './define.ts';
import { requireServerAdmin } from './guards.ts';

export function systemRoutes(wharf: Wharf, version: string): ApiRoute[] {
  return [
    {
      method: 'GET', url: '/status', tag: 'system', summary: 'Counts and sizes per repository the caller can read',
      handler: async (req) => ({
        version,
        repositories: wharf.listRepos().filter((r) => can(req.principal, r, 'read')).map((r) => ({
          name: r.name, format: r.format, kind: r.kind, public: r.publicRead, ...wharf.store.repoStats(r.id),
        })),
      }),
    },
    {
      method: 'POST', url: '/gc', tag: 'system',
      summary: 'Delete blobs no file references any more and last committed longer than the grace period ago (administrators)',
      querystring: { type: 'object', properties: { graceSeconds: { type: 'number', minimum: 0 } }, additionalProperties: false },
      handler: async (req) => {
        requireServerAdmin(req);
        const { graceSeconds } = req.query as { graceSeconds?: number };
        return wharf.gc(graceSeconds === undefined ? {} : { graceMs: graceSeconds * 1000 });
      },
    },
  ];
}
