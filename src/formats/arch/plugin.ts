// The Arch Linux format: hosted pacman repositories with signed `.db`/`.files` per
// architecture, built from the metadata database and published atomically; and proxies
// of an upstream pacman repository (see proxy.ts).
import { normalizeMinAgeBaseline } from '../../core/cooldown.ts';
import { PROXY_OPTION_KEYS } from '../../core/proxy/options.ts';
import { GROUP_OPTION_KEYS } from '../../core/group.ts';
import type { FormatPlugin } from '../../core/format-plugin.ts';
import { badRequest } from '../../core/errors.ts';
import type { FileRow, RepoKind } from '../../core/model.ts';
import { archActionAccess, archActions } from './actions.ts';
import { repoArchitectures } from './arches.ts';
import { dbState } from './db-state.ts';
import { planArchUpload } from './ingest.ts';
import { normalizeArchOptions } from './options.ts';
import { fileListPath, scopesOfArch, signaturePath } from './paths.ts';
import { archRoutes } from './routes.ts';
import { archSetup, archSetupFacts } from './setup.ts';
import { archPackageView } from './package-view.ts';
import { archStaticEntries } from './static.ts';
import { archScopeOfKey, buildArchAsOf } from './as-of.ts';
import { retentionSchedule } from '../../core/retention.ts';

const allScopes = async (ctx: Parameters<FormatPlugin['scopesForPackage']>[0]) => (await repoArchitectures(ctx)).flatMap(scopesOfArch);

export const archFormat: FormatPlugin = {
  format: 'arch',
  kinds: ['hosted', 'proxy', 'group'],
  cooldown: true,
  // A group merges its members' dbs itself (group.ts): a group of groups is not merged.
  nestedGroups: false,
  normalizeOptions: (options: Record<string, unknown>, kind: RepoKind) => {
    if (kind === 'hosted') return normalizeArchOptions(options);
    // The core has taken the proxy and group options; neither has Arch options of its own.
    const { minAgeBaseline, ...rest } = options;
    const extra = Object.keys(kind === 'proxy' ? rest : options);
    if (extra.length) throw badRequest(`unknown option ${JSON.stringify(extra[0])} for an arch ${kind}; known: ${kind === 'proxy' ? [...PROXY_OPTION_KEYS, 'minAgeBaseline'].join(', ') : GROUP_OPTION_KEYS.join(', ')}`);
    return kind === 'proxy' ? normalizeMinAgeBaseline(minAgeBaseline) : {};
  },
  routes: archRoutes,
  staticEntries: archStaticEntries,
  ingest: planArchUpload,
  async buildScope(ctx, scope) {
    if (ctx.repo.kind !== 'hosted') return [];
    const m = /^(arch|files):(.+)$/.exec(scope);
    if (!m) return [];
    return (await dbState(ctx)).build(ctx, m[2], m[1] === 'arch' ? 'db' : 'files');
  },
  // pacman -Sy reads only the `.db`: an upload answers once its `.db` is published, and the
  // `.files` db follows a moment later, once per burst. A read of `.files` meanwhile
  // publishes it first (routes.ts), so no client is ever served one older than the upload.
  deferredScopes: (scope) => scope.startsWith('files:'),
  async scopesForPackage(ctx) {
    if (ctx.repo.kind !== 'hosted') return [];
    return allScopes(ctx);
  },
  // A db's bytes are deterministic; its detached signature carries the time it was made.
  sameDocument: (key, published, fresh) => key.endsWith('.sig') || Buffer.compare(published, fresh) === 0,
  companionPaths: (file: FileRow) => {
    if (file.meta.kind === 'package') return [signaturePath(file.path), fileListPath(file.path)];
    // A proxy's cached package goes with its cached signature.
    if (typeof file.meta.upstreamUrl === 'string' && !file.path.endsWith('.sig')) return [signaturePath(file.path)];
    return [];
  },
  async onCreate(ctx) {
    // A group signs its merged dbs with a key of its own.
    if (ctx.repo.kind === 'group') await ctx.services.keys.signingKeys(ctx.repo);
    if (ctx.repo.kind !== 'hosted') return;
    await ctx.services.publish(ctx.repo, await allScopes(ctx));
  },
  asOf: { scopeOfKey: archScopeOfKey, buildScope: buildArchAsOf },
  signedScopes: async (ctx) => (ctx.repo.kind === 'hosted' ? allScopes(ctx) : []),
  schedule: retentionSchedule,
  actions: archActions,
  actionAccess: archActionAccess,
  setupGuide: async (ctx, site) => archSetup(ctx.repo, site, await archSetupFacts(ctx)),
  packageView: archPackageView,
};
