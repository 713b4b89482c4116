// The APT format: hosted Debian repositories that apt-get reads, signed with the
// repository's Ed25519 key, one index scope per suite (`suite:<name>`); and proxies of an
// upstream archive (proxy.ts), which publish nothing of their own.
import { normalizeMinAgeBaseline } from '../../core/cooldown.ts';
import { badRequest } from '../../core/errors.ts';
import type { FormatPlugin, RepoContext } from '../../core/format-plugin.ts';
import { clean, remove } from './clean.ts';
import { sameAptDocument } from './index-check.ts';
import { planAptUpload } from './ingest.ts';
import { normalizeAptOptions } from './options.ts';
import { SUITE_SCOPE_PREFIX } from './paths.ts';
import { aptPackageView } from './package-view.ts';
import { aptRoutes } from './routes.ts';
import { allSuiteScopes, buildSuite, dropSuiteContent } from './suite-build.ts';
import { aptSetup, aptSetupFacts } from './setup.ts';
import { aptStaticEntries } from './static.ts';
import { aptScopeOfKey, buildSuiteAsOf } from './as-of.ts';
import { retentionSchedule } from '../../core/retention.ts';

export const aptFormat: FormatPlugin = {
  format: 'apt',
  kinds: ['hosted', 'proxy', 'group'],
  cooldown: true,
  // A group merges its members' suites itself (group.ts): a group of groups is not merged.
  nestedGroups: false,
  // A proxy stores the by-hash indexes it fetched below dists/: index documents, not content.
  cachedIndexDocument: (path: string) => path.startsWith('dists/'),
  normalizeOptions(options, kind) {
    // A proxy's options (upstream, TTLs, credentials, offline) are the core's.
    if (kind !== 'hosted') {
      const { minAgeBaseline, ...rest } = options;
      for (const k of Object.keys(kind === 'proxy' ? rest : options)) throw badRequest(`unknown option ${JSON.stringify(k)} for an apt ${kind} repository`);
      return kind === 'proxy' ? normalizeMinAgeBaseline(minAgeBaseline) : {};
    }
    return normalizeAptOptions(options) as unknown as Record<string, unknown>;
  },
  routes: aptRoutes,
  staticEntries: aptStaticEntries,
  ingest: planAptUpload,
  sameDocument: sameAptDocument,
  async buildScope(ctx, scope) {
    if (!scope.startsWith(SUITE_SCOPE_PREFIX)) return [];
    const suite = scope.slice(SUITE_SCOPE_PREFIX.length);
    const docs = await buildSuite(ctx, suite);
    if (docs.length === 0) await dropSuiteContent(ctx, suite);
    return docs;
  },
  // The core asks this when it deletes files. A deleted file's suites may be gone by the time
  // this is asked, so every suite is rebuilt (unchanged indexes cost no compression).
  scopesForPackage: async (ctx) => {
    if (ctx.repo.kind !== 'hosted') return [];
    return allSuiteScopes(ctx);
  },
  async onCreate(ctx) {
    // A group signs its merged suites with a key of its own.
    if (ctx.repo.kind === 'group') await ctx.services.keys.signingKeys(ctx.repo);
    if (ctx.repo.kind !== 'hosted') return;
    await ctx.services.keys.signingKeys(ctx.repo);
    const scopes = await allSuiteScopes(ctx);
    if (scopes.length) await ctx.services.publish(ctx.repo, scopes);
  },
  asOf: { scopeOfKey: aptScopeOfKey, buildScope: buildSuiteAsOf },
  signedScopes: async (ctx) => (ctx.repo.kind === 'hosted' ? allSuiteScopes(ctx) : []),
  schedule: retentionSchedule,
  actions: { clean: hostedOnly('clean', clean), remove: hostedOnly('remove', remove) },
  setupGuide: async (ctx, site) => aptSetup(ctx.repo, site, await aptSetupFacts(ctx)),
  packageView: aptPackageView,
};

/** Suite maintenance has no meaning for a proxy: its suites are the upstream's. */
function hostedOnly<A, R>(name: string, action: (ctx: RepoContext, args: A) => Promise<R>): (ctx: RepoContext, args: A) => Promise<R> {
  return (ctx, args) => {
    if (ctx.repo.kind !== 'hosted') throw badRequest(`${name} works on hosted apt repositories; ${ctx.repo.name} is a ${ctx.repo.kind}`);
    return action(ctx, args);
  };
}
