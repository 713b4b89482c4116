// Pages of proxy and group repositories are rendered on request from cached models; the
// rendering is kept (bounded in bytes) under a key that includes the state of every source,
// so a warm page costs a lookup, like a hosted one.
import { gzipSync } from 'node:zlib';
import { IndexCache } from '../../core/index-cache.ts';
import type { IndexRow, Repository } from '../../core/model.ts';
import { etagOf } from './proxy.ts';

const cache = new IndexCache(64 * 1024 * 1024);

export function renderedRow(repo: Repository, key: string, contentType: string, build: () => string): IndexRow {
  const hit = cache.get(repo.id, key);
  if (hit) return hit;
  const body = Buffer.from(build(), 'utf8');
  const row: IndexRow = {
    repoId: repo.id, key, scope: 'rendered', contentType, body,
    gzip: body.length >= 512 ? gzipSync(body, { level: 6 }) : null, etag: etagOf(body), updatedAt: new Date().toISOString(),
  };
  cache.set(repo.id, key, row);
  return row;
}
