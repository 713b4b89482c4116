// A suite's `dists/` as it was at a past instant (time travel, core/time-travel.ts): built
// from that instant's .debs (ctx.store answers as of it) in one go, without the incremental
// chunk state or by-hash generations of the live build (suite-build.ts), and signed with the
// repository's current key. The documents are laid out as the live build's, so the same
// routes serve them: the signed files, the suite's state document, and each index file under
// its content key.
import { createHash } from 'node:crypto';
import type { IndexDocument, RepoContext } from '../../core/format-plugin.ts';
import { clearsign, detachSign } from '../../core/signing.ts';
import { compressBuffer } from '../../lib/compression.ts';
import { buildContents } from './contents.ts';
import { toEntry, type DebEntry } from './file-cache.ts';
import { aptOptions } from './options.ts';
import { contentKey, stateKey, SUITE_SCOPE_PREFIX, suiteScope } from './paths.ts';
import { buildArchRelease, buildRelease } from './release.ts';
import type { StateFile, SuiteState } from './suite-build.ts';
import { compareDebVersions } from './version.ts';

const digest = (alg: string, data: Uint8Array) => createHash(alg).update(data).digest('hex');

/** The scope holding a document: every key below `dists/<suite>/` and the suite's state are one build. */
export function aptScopeOfKey(key: string): string | null {
  const m = /^(?:dists|apt-state)\/([^/]+)/.exec(key);
  return m ? suiteScope(m[1]) : null;
}

export async function buildSuiteAsOf(ctx: RepoContext, scope: string): Promise<IndexDocument[]> {
  if (!scope.startsWith(SUITE_SCOPE_PREFIX)) return [];
  const suite = scope.slice(SUITE_SCOPE_PREFIX.length);
  const { repo } = ctx;
  const opts = aptOptions(repo.options);
  const settings = opts.suites[suite] ?? {};
  const listed: { e: DebEntry; stanza: string; contents: string[]; section: string | null }[] = [];
  for (const f of await ctx.store.listFilesByPrefix(repo.id, '')) {
    const e = toEntry(f);
    if (!e || !e.suites.includes(suite)) continue;
    listed.push({ e, stanza: String(f.meta.stanza), contents: (f.meta.contents as string[] | undefined) ?? [], section: (f.meta.section as string | null) ?? null });
  }
  if (listed.length === 0 && !opts.suites[suite]) return [];
  listed.sort((a, b) => (a.e.name < b.e.name ? -1 : a.e.name > b.e.name ? 1 : 0) || compareDebVersions(a.e.version, b.e.version) || (a.e.path < b.e.path ? -1 : 1));

  const components = [...new Set([...listed.map((l) => l.e.component), ...(settings.components ?? [])])].sort();
  if (components.length === 0) components.push(opts.defaultComponent);
  const archs = [...new Set([...listed.map((l) => l.e.arch).filter((a) => a !== 'all'), ...opts.architectures, ...(settings.architectures ?? [])])].sort();
  if (archs.length === 0) archs.push('amd64');
  const origin = settings.origin ?? opts.origin ?? repo.name;
  const label = settings.label ?? opts.label ?? repo.name;

  const files: Record<string, StateFile> = {};
  const docs: IndexDocument[] = [];
  const add = (rel: string, data: Uint8Array, contentType: string) => {
    const sha256 = digest('sha256', data);
    const content = contentKey(suite, rel, sha256);
    files[rel] = { size: data.length, md5: digest('md5', data), sha256, sha512: digest('sha512', data), content, contentType };
    docs.push({ key: content, contentType, body: data });
  };
  for (const component of components) {
    for (const arch of archs) {
      const rows = listed.filter((l) => l.e.component === component && (l.e.arch === arch || l.e.arch === 'all'));
      const dir = `${component}/binary-${arch}`;
      const plain = Buffer.from(rows.map((l) => `${l.stanza}\n`).join(''));
      add(`${dir}/Packages`, plain, 'text/plain; charset=utf-8');
      add(`${dir}/Packages.gz`, await compressBuffer('gzip', plain), 'application/gzip');
      add(`${dir}/Release`, Buffer.from(buildArchRelease({ archive: suite, origin, label, component, architecture: arch })), 'text/plain; charset=utf-8');
      if (opts.contents) {
        const text = buildContents(rows.map((l) => ({ name: l.e.name, section: l.section ?? undefined, files: l.contents })));
        add(`${component}/Contents-${arch}.gz`, await compressBuffer('gzip', Buffer.from(text)), 'application/gzip');
      }
    }
  }
  // Dated at the instant it shows, so every build of it (another process, after a restart) says the same.
  const now = new Date(ctx.asOf ?? Date.now());
  const codename = settings.codename ?? suite;
  const release = buildRelease({
    origin, label, suite, codename, date: now, architectures: archs, components, description: settings.description,
    files: Object.entries(files).map(([path, f]) => ({ path, size: f.size, md5: f.md5, sha256: f.sha256, sha512: f.sha512 })),
  });
  const keys = await ctx.services.keys.signingKeys(repo);
  const [inRelease, releaseGpg] = await Promise.all([clearsign(release, keys), detachSign(Buffer.from(release), keys, { armor: true })]);
  const state: SuiteState = { suite, codename, generations: [{ at: now.toISOString(), files }] };
  return [
    ...docs,
    { key: `dists/${suite}/Release`, contentType: 'text/plain; charset=utf-8', body: release },
    { key: `dists/${suite}/InRelease`, contentType: 'text/plain; charset=utf-8', body: inRelease },
    { key: `dists/${suite}/Release.gpg`, contentType: 'application/pgp-signature', body: releaseGpg },
    { key: stateKey(suite), contentType: 'application/json', body: JSON.stringify(state) },
  ];
}
