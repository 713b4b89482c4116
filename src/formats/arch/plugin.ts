// The Arch Linux format: hosted pacman repositories with signed `.db`/`.files` per
// architecture, built from the metadata database and published atomically.
import type { FormatPlugin } from '../../core/format-plugin.ts';
import type { FileRow } from '../../core/model.ts';
import { archActions } from './actions.ts';
import { repoArchitectures } from './arches.ts';
import { dbState } from './db-state.ts';
import { planArchUpload } from './ingest.ts';
import { normalizeArchOptions } from './options.ts';
import { fileListPath, scopesOfArch, signaturePath } from './paths.ts';
import { archRoutes } from './routes.ts';

const allScopes = (ctx: Parameters<FormatPlugin['scopesForPackage']>[0]) => repoArchitectures(ctx).flatMap(scopesOfArch);

export const archFormat: FormatPlugin = {
  format: 'arch',
  kinds: ['hosted'],
  normalizeOptions: (options) => normalizeArchOptions(options),
  routes: archRoutes,
  ingest: planArchUpload,
  async buildScope(ctx, scope) {
    const m = /^(arch|files):(.+)$/.exec(scope);
    if (!m) return [];
    return dbState(ctx.repo).build(ctx, m[2], m[1] === 'arch' ? 'db' : 'files');
  },
  scopesForPackage(ctx, name) {
    // Called by the core for every deletion: the name's files are read again at the next build.
    dbState(ctx.repo).markChanged(name);
    return allScopes(ctx);
  },
  companionPaths: (file: FileRow) => (file.meta.kind === 'package' ? [signaturePath(file.path), fileListPath(file.path)] : []),
  async onCreate(ctx) {
    await ctx.services.publish(ctx.repo, allScopes(ctx));
  },
  async onKeysChanged(ctx) {
    dbState(ctx.repo).dropDocuments();
    await ctx.services.publish(ctx.repo, allScopes(ctx));
  },
  actions: archActions,
};
