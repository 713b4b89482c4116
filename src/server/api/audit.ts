// /-/api/v1/audit: the audit trail, newest first, paginated by id (docs/security.md). Read only:
// the trail has no route that changes or deletes an entry. Administrators read everything; a
// user (or token) with admin on a repository reads that repository's entries (`repo=` given).
import { parseSince } from '../../core/audit.ts';
import { isServerAdmin } from '../../core/auth/principal.ts';
import { badRequest, forbidden } from '../../core/errors.ts';
import type { Wharf } from '../../core/wharf.ts';
import { AuditLog } from '../../db/audit-log.ts';
import type { ApiRoute } from './define.ts';
import { requireRepo, requireUser } from './guards.ts';

export const AUDIT_PAGE_DEFAULT = 100;
export const AUDIT_PAGE_MAX = 1000;

export function auditRoutes(wharf: Wharf): ApiRoute[] {
  const log = new AuditLog(wharf.store.sql);
  return [
    {
      method: 'GET', url: '/audit', tag: 'system',
      summary: 'The audit trail, newest first (administrators; a repository\'s admins with `repo`). `since`: ISO time or 7d/12h/30m; `action`: exact or a prefix ending in `*`; the next page: `before` = the answer\'s `next`',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          repo: { type: 'string', maxLength: 64 }, since: { type: 'string', maxLength: 64 }, user: { type: 'string', maxLength: 64 },
          action: { type: 'string', maxLength: 64 }, limit: { type: 'integer', minimum: 1, maximum: AUDIT_PAGE_MAX }, before: { type: 'integer', minimum: 1 },
        },
      },
      handler: async (req) => {
        requireUser(req);
        const q = req.query as { repo?: string; since?: string; user?: string; action?: string; limit?: number; before?: number };
        if (!isServerAdmin(req.principal)) {
          if (q.repo === undefined) throw forbidden('the whole audit trail is for administrators; a repository\'s admins read its entries with repo=NAME');
          requireRepo(wharf, req, q.repo, 'admin');
        }
        let since: string | undefined;
        if (q.since !== undefined) {
          since = parseSince(q.since) ?? undefined;
          if (since === undefined) throw badRequest(`since: ${JSON.stringify(q.since)} is neither an ISO time nor a duration like 7d, 12h or 30m`);
        }
        const limit = q.limit ?? AUDIT_PAGE_DEFAULT;
        const entries = await log.list({ repo: q.repo, since, actor: q.user, action: q.action, before: q.before, limit });
        return { entries, next: entries.length === limit ? entries[entries.length - 1].id : null };
      },
    },
  ];
}
