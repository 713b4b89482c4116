// Pages of proxy and group repositories are rendered on request from cached models; the
// rendering is kept (bounded in bytes, a memo the core holds with the others under one
// budget) under a key that includes the state of every source, so a warm page costs a
// lookup, like a hosted one.
import { gzipSync } from 'node:zlib';
import type { RepoContext } from '../../core/format-plugin.ts';
import type { IndexRow } from '../../core/model.ts';
import { etagOf } from './proxy.ts';

const RENDERED = { maxEntries: 20_000, maxBytes: 64 * 1024 * 1024 };

export function renderedRow(ctx: Pick<RepoContext, 'repo' | 'state'>, key: string, contentType: string, build: () => string): IndexRow {
  const memo = ctx.state.memo<IndexRow>('pypi:rendered', RENDERED);
  const hit = memo.get(key);
  if (hit) return hit;
  const body = Buffer.from(build(), 'utf8');
  const row: IndexRow = {
    repoId: ctx.repo.id, key, scope: 'rendered', contentType, body,
    gzip: body.length >= 512 ? gzipSync(body, { level: 6 }) : null, etag: etagOf(body), updatedAt: new Date().toISOString(),
  };
  memo.set(key, row, body.length + (row.gzip?.length ?? 0) + 2 * key.length + 512);
  return row;
}
