// An architecture's `.db` or `.files` as it was at a past instant (time travel,
// core/time-travel.ts): built in one go from that instant's package files (ctx.store
// answers as of it), choosing per name as the live build does (db-state.ts: the newest
// version for the architecture or `any`, never a held one, signed uploads only where
// required), and signed with the repository's current key.
import { Readable } from 'node:stream';
import type { IndexDocument, RepoContext } from '../../core/format-plugin.ts';
import type { FileRow } from '../../core/model.ts';
import { detachSign } from '../../core/signing.ts';
import { collect } from '../../lib/compression.ts';
import { buildRepoDb } from './db-archive.ts';
import { dbEntryName } from './desc.ts';
import { archOptions } from './options.ts';
import { dbScope, fileListPath, filesScope, indexKey, type DbKind } from './paths.ts';
import { vercmp } from './vercmp.ts';

/** `<arch>/db`, `<arch>/files` and their `.sig` are built with their architecture's scope. */
export function archScopeOfKey(key: string): string | null {
  const m = /^([^/]+)\/(db|files)(?:\.sig)?$/.exec(key);
  return m ? (m[2] === 'db' ? dbScope(m[1]) : filesScope(m[1])) : null;
}

export async function buildArchAsOf(ctx: RepoContext, scope: string): Promise<IndexDocument[]> {
  const m = /^(arch|files):(.+)$/.exec(scope);
  if (!m) return [];
  const kind: DbKind = m[1] === 'arch' ? 'db' : 'files';
  const arch = m[2];
  const requireSigned = archOptions(ctx.repo).requireSignedUploads;
  const rows = await ctx.store.listFilesByPrefix(ctx.repo.id, '');
  const signed = new Set(rows.filter((r) => r.meta.kind === 'signature' && typeof r.meta.of === 'string' && typeof r.meta.signer === 'string').map((r) => String(r.meta.of)));
  const chosen = new Map<string, FileRow>();
  for (const r of rows) {
    const meta = r.meta;
    if (meta.kind !== 'package' || typeof meta.pkgname !== 'string') continue;
    if ((meta.arch !== arch && meta.arch !== 'any') || meta.held === true) continue;
    if (requireSigned && !signed.has(r.path)) continue;
    const best = chosen.get(meta.pkgname);
    const c = best ? vercmp(String(meta.pkgver), String(best.meta.pkgver)) : 1;
    if (c > 0 || (c === 0 && meta.arch === arch && best!.meta.arch === 'any')) chosen.set(meta.pkgname, r);
  }
  const entries = await Promise.all([...chosen.values()].map(async (r) => {
    let files: string | undefined;
    if (kind === 'files') {
      const list = await ctx.store.getFileByPath(ctx.repo.id, fileListPath(r.path));
      files = list ? (await collect(Readable.from(ctx.blobs.open(list.sha256)))).toString('utf8') : '%FILES%\n';
    }
    return { name: dbEntryName({ pkgname: String(r.meta.pkgname), pkgver: String(r.meta.pkgver) }), desc: String(r.meta.desc), files };
  }));
  const body = await buildRepoDb(entries, { withFiles: kind === 'files' });
  const sig = await detachSign(body, await ctx.services.keys.signingKeys(ctx.repo), { armor: false });
  return [
    { key: indexKey(arch, kind), contentType: 'application/octet-stream', body },
    { key: indexKey(arch, kind, true), contentType: 'application/pgp-signature', body: sig },
  ];
}
