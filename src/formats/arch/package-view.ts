// An Arch package as its page shows it: versions newest first (vercmp), each with its package
// files (architecture, signature, held back from the db), depends / provides / optdepends from
// its desc entry, and how to install it: pacman -S takes the version the db lists and cannot
// pin one, so pacman -U with the file's URL installs exactly this one.
import type { PackageBadge, PackageSite, PackageView, PackageViewVersion, RepoContext } from '../../core/format-plugin.ts';
import type { PackageRow } from '../../core/model.ts';
import type { FileWithVersion } from '../../db/store.ts';
import { viewFile } from '../../core/package-view.ts';
import { withCredentials } from '../../core/setup-snippets.ts';
import { parseDbEntry } from './desc.ts';
import { vercmp } from './vercmp.ts';

const SHOWN: [field: string, label: string, list: boolean][] = [
  ['ARCH', 'Architecture', false], ['BASE', 'Base', false], ['URL', 'URL', false], ['LICENSE', 'Licenses', true], ['GROUPS', 'Groups', true],
  ['ISIZE', 'Installed size', false], ['PACKAGER', 'Packager', false], ['BUILDDATE', 'Build date', false],
  ['DEPENDS', 'Depends', true], ['OPTDEPENDS', 'Optional depends', true], ['PROVIDES', 'Provides', true],
  ['CONFLICTS', 'Conflicts', true], ['REPLACES', 'Replaces', true],
];

function fieldsOf(desc: Map<string, string[]> | null): [string, string | string[]][] {
  if (!desc) return [];
  const out: [string, string | string[]][] = [];
  for (const [field, label, list] of SHOWN) {
    const values = desc.get(field);
    if (!values || values.length === 0 || values[0] === '') continue;
    if (field === 'BUILDDATE' && /^\d+$/.test(values[0])) {
      out.push([label, new Date(Number(values[0]) * 1000).toISOString()]);
      continue;
    }
    out.push([label, list ? values : values[0]]);
  }
  return out;
}

export async function archPackageView(ctx: RepoContext, pkg: PackageRow, site: PackageSite): Promise<PackageView> {
  const byVersion = new Map<string, FileWithVersion[]>((await ctx.store.listVersionNames(pkg.id)).map((v) => [v, []]));
  const signed = new Map<string, string>();
  for (const f of await ctx.store.listFilesOfPackage(pkg.id)) {
    if (f.meta.kind === 'package' && f.version !== null) byVersion.get(f.version)?.push(f);
    if (f.meta.kind === 'signature' && typeof f.meta.of === 'string') signed.set(f.meta.of, f.meta.source === 'server' ? 'signed by the server' : 'signed');
  }
  const versions = [...byVersion.keys()].sort((a, b) => vercmp(b, a));
  let newestDesc: Map<string, string[]> | null = null;
  const view: PackageViewVersion[] = versions.map((version) => {
    const files = byVersion.get(version)!;
    const desc = files.map((f) => (typeof f.meta.desc === 'string' ? parseDbEntry(f.meta.desc) : null)).find((d) => d !== null) ?? null;
    newestDesc ??= desc;
    const listed = files.some((f) => f.meta.held !== true);
    const badges: PackageBadge[] = files.length > 0 && !listed ? [{ text: 'held: not in the db', tone: 'warn' }] : [];
    return {
      version,
      badges,
      fields: fieldsOf(desc),
      files: files.map((f) => {
        const fb: PackageBadge[] = [];
        if (typeof f.meta.arch === 'string') fb.push({ text: f.meta.arch });
        const sig = signed.get(f.path);
        fb.push(sig ? { text: sig, tone: 'ok' } : { text: 'unsigned', tone: 'warn' });
        if (f.meta.held === true) fb.push({ text: 'held', tone: 'warn' });
        return viewFile(f, site, fb);
      }),
      install: [
        ...(listed ? [{ text: `pacman installs the version ${site.name}'s db lists and cannot pin one; with the set-up on the repository page:`, code: `sudo pacman -S ${site.name}/${pkg.name}` }] : []),
        ...files.map((f) => ({
          text: `Exactly this version${files.length > 1 ? ` (${String(f.meta.arch)})` : ''}, from its file:`,
          code: `sudo pacman -U ${site.private ? withCredentials(viewFile(f, site).url) : viewFile(f, site).url}`,
        })),
      ],
    };
  });
  const desc = newestDesc as Map<string, string[]> | null;
  const url = desc?.get('URL')?.[0];
  return {
    versions: view,
    summary: desc?.get('DESC')?.[0] ?? (typeof pkg.meta.description === 'string' ? pkg.meta.description : null),
    links: url ? [{ label: 'Upstream URL', url }] : [],
    // Arch has one line of description (%DESC%): the summary says it all.
    description: null,
  };
}
