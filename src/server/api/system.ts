// /-/api/v1/status, /gc and /backup: what the server holds, freeing unreferenced blobs, and
// an online copy of the data.
import { can } from '../../core/auth/principal.ts';
import type { Wharf } from '../../core/wharf.ts';
import type { ApiRoute } from './define.ts';
import { requireServerAdmin } from './guards.ts';

export function systemRoutes(wharf: Wharf, version: string, dataDir: string): ApiRoute[] {
  return [
    {
      method: 'GET', url: '/status', tag: 'system', summary: 'Counts and sizes per repository the caller can read',
      handler: async (req) => ({
        version,
        repositories: await Promise.all(wharf.listRepos().filter((r) => can(req.principal, r, 'read')).map(async (r) => ({
          name: r.name, format: r.format, kind: r.kind, public: r.publicRead, ...(await wharf.store.repoStats(r.id)),
        }))),
      }),
    },
    {
      method: 'POST', url: '/gc', tag: 'system',
      summary: 'Delete blobs no file references any more and last committed longer than the grace period ago (administrators); `dryRun=true` only counts them',
      querystring: { type: 'object', properties: { graceSeconds: { type: 'number', minimum: 0 }, dryRun: { type: 'boolean' } }, additionalProperties: false },
      handler: async (req) => {
        requireServerAdmin(req);
        const { graceSeconds, dryRun } = req.query as { graceSeconds?: number; dryRun?: boolean };
        const result = await wharf.gc({ ...(graceSeconds === undefined ? {} : { graceMs: graceSeconds * 1000 }), ...(dryRun ? { dryRun: true } : {}) });
        // After the fact, not in a transaction: gc frees blobs one by one, outside the database.
        if (!dryRun) await wharf.audit({ action: 'gc', detail: { ...result } });
        return result;
      },
    },
    {
      method: 'POST', url: '/backup', tag: 'system',
      summary: 'Write a consistent copy of the data (database and the blobs it names) into a new or empty directory on the server (administrators)',
      body: {
        type: 'object', required: ['dir'], additionalProperties: false,
        properties: { dir: { type: 'string', minLength: 1, maxLength: 4096 }, link: { type: 'boolean' } },
      },
      handler: async (req) => {
        requireServerAdmin(req);
        const { dir, link } = req.body as { dir: string; link?: boolean };
        const result = await wharf.backup(dir, dataDir, { link });
        // After the copy is complete (so the copy does not hold its own entry).
        await wharf.audit({ action: 'backup', target: dir, detail: { ...result } });
        return result;
      },
    },
  ];
}
