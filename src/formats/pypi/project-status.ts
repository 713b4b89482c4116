// Project status markers (PEP 792): `active` (the default), `archived` (no new uploads),
// `quarantined` (no uploads, and no file offered for download) and `deprecated` (for
// information only), with an optional reason. Hosted repositories keep them in the database
// (Store.getPackageStatus); proxies take their upstream's; a group takes the first member's
// that has the project.
import { badRequest, forbidden, WharfError } from '../../core/errors.ts';
import type { RepoContext } from '../../core/format-plugin.ts';
import type { RepoChange } from '../../core/change-feed.ts';

export const PROJECT_STATUSES = ['active', 'archived', 'quarantined', 'deprecated'] as const;
export type ProjectStatusName = (typeof PROJECT_STATUSES)[number];

export interface ProjectStatus {
  status: ProjectStatusName;
  reason: string | null;
}

export const ACTIVE: ProjectStatus = Object.freeze({ status: 'active', reason: null });

export const isProjectStatus = (s: unknown): s is ProjectStatusName => typeof s === 'string' && (PROJECT_STATUSES as readonly string[]).includes(s);

const MAX_REASON = 1000;

/** A status and reason given through the API, checked. */
export function parseStatusInput(status: unknown, reason: unknown): ProjectStatus {
  if (!isProjectStatus(status)) throw badRequest(`status must be one of ${PROJECT_STATUSES.join(', ')}`);
  if (reason === undefined || reason === null || reason === '') return { status, reason: null };
  if (typeof reason !== 'string') throw badRequest('reason must be text');
  // Control characters would not survive an HTML attribute or PostgreSQL text (NUL).
  if (reason.length > MAX_REASON || /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(reason)) {
    throw badRequest(`reason must be at most ${MAX_REASON} characters of text without control characters`);
  }
  return { status, reason };
}

/** A status as read from an upstream's page or the database: an unknown one is taken as active, as PEP 792 lets clients do. */
export function readStatus(status: unknown, reason: unknown): ProjectStatus {
  if (!isProjectStatus(status)) return ACTIVE;
  return { status, reason: typeof reason === 'string' && reason !== '' ? reason : null };
}

/** PEP 792: a quarantined project offers no file for download. */
export const offersFiles = (s: ProjectStatus) => s.status !== 'quarantined';
/** PEP 792: archived and quarantined projects take no new uploads. */
export const acceptsUploads = (s: ProjectStatus) => s.status === 'active' || s.status === 'deprecated';

const describe = (s: ProjectStatus) => `${s.status}${s.reason ? ` (${s.reason})` : ''}`;

export function refuseUpload(project: string, s: ProjectStatus): WharfError {
  return new WharfError('PROJECT_STATUS', `project ${project} is ${describe(s)}: it takes no new uploads (PEP 792)`);
}

export function refuseDownload(project: string, s: ProjectStatus, where: string): WharfError {
  return forbidden(`project ${project}${where} is quarantined${s.reason ? ` (${s.reason})` : ''}: its files are not served (PEP 792)`);
}

/**
 * The statuses of one hosted repository, kept per process and told of every status change
 * through the change feed (whoever made it, on whichever replica), so a download costs no
 * database read to learn its project is quarantined.
 */
class StatusTable {
  private byName: Map<string, ProjectStatus> | null = null;
  private loading: Promise<Map<string, ProjectStatus>> | null = null;

  applyChanges(changes: RepoChange[]): void {
    if (changes.some((c) => c.kind === 'status')) {
      this.byName = null;
      this.loading = null;
    }
  }

  async of(ctx: RepoContext, project: string): Promise<ProjectStatus> {
    let map = this.byName;
    if (!map) {
      const loading = this.loading ?? (this.loading = this.load(ctx));
      map = await loading;
      // A change told while loading cleared `loading`: keep this answer for this call only.
      if (this.loading === loading) this.byName = map;
    }
    return map.get(project) ?? ACTIVE;
  }

  private async load(ctx: RepoContext): Promise<Map<string, ProjectStatus>> {
    const rows = await ctx.store.listPackageStatuses(ctx.repo.id);
    return new Map(rows.map((r) => [r.name, readStatus(r.status, r.reason)]));
  }
}

/** A hosted project's status (active when none was set). */
export async function hostedStatus(ctx: RepoContext, project: string): Promise<ProjectStatus> {
  const table = await ctx.state.get('pypi:project-status', () => new StatusTable());
  return table.of(ctx, project);
}
