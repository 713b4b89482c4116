// The files format: a plain artifact server. Any file under any path, listed per directory,
// served with ETag and Range; what a build system's tarball base URL points at.
import { badRequest } from '../../core/errors.ts';
import type { FormatPlugin } from '../../core/format-plugin.ts';
import { planFilesUpload } from './ingest.ts';
import { dirScope, SCOPE_PREFIX, scopeOfListingKey } from './paths.ts';
import { filesRoutes } from './routes.ts';
import { buildDirectoryDocuments, scopesForPathChange } from './tree.ts';
import { filesSetup } from './setup.ts';
import { filesStaticEntries, filesStaticEntriesOf } from './static.ts';
import { cleanFiles } from './retention.ts';
import { normalizeRetentionOption, retentionSchedule } from '../../core/retention.ts';

const BOOLEAN_OPTIONS = { allowOverwrite: false, listings: true } as const;

export const filesFormat: FormatPlugin = {
  format: 'files',
  kinds: ['hosted', 'proxy', 'group'],
  cooldown: true,
  normalizeOptions(options, kind) {
    const out: Record<string, unknown> = {};
    // Proxy and group options (upstream, members…) are the core's.
    if (kind !== 'hosted') {
      for (const k of Object.keys(options)) throw badRequest(`unknown option ${JSON.stringify(k)} for a ${kind} files repository`);
      return out;
    }
    for (const k of Object.keys(options)) if (!(k in BOOLEAN_OPTIONS) && k !== 'retention') throw badRequest(`unknown files option ${JSON.stringify(k)}; known: ${[...Object.keys(BOOLEAN_OPTIONS), 'retention'].join(', ')}`);
    const retention = normalizeRetentionOption(options.retention, { keepDays: true, except: true });
    if (retention) out.retention = retention;
    for (const [k, def] of Object.entries(BOOLEAN_OPTIONS)) {
      const v = options[k];
      if (v !== undefined && typeof v !== 'boolean') throw badRequest(`${k} must be true or false`);
      out[k] = v ?? def;
    }
    return out;
  },
  routes: filesRoutes,
  staticEntries: filesStaticEntries,
  staticEntriesOf: filesStaticEntriesOf,
  ingest: planFilesUpload,
  async buildScope(ctx, scope) {
    if (!scope.startsWith(SCOPE_PREFIX)) return [];
    return buildDirectoryDocuments(ctx, scope.slice(SCOPE_PREFIX.length));
  },
  // Files have no packages: the core passes the deleted file's path.
  scopesForPackage: (ctx, path) => scopesForPathChange(ctx, path),
  async onCreate(ctx) {
    if (ctx.repo.kind === 'hosted') await ctx.services.publish(ctx.repo, [dirScope('')]);
  },
  // Time travel: the listings of an instant, by the same builder on that instant's files.
  asOf: { scopeOfKey: scopeOfListingKey, buildScope: (ctx, scope) => buildDirectoryDocuments(ctx, scope.slice(SCOPE_PREFIX.length)), groups: true },
  schedule: retentionSchedule,
  actions: { clean: cleanFiles },
  setupGuide: (ctx, site) => filesSetup(ctx.repo, site),
};
