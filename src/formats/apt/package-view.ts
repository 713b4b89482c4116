// A Debian package as its page shows it: versions newest first (dpkg order), each with its
// .debs (architecture, the suites and component that list it), the relationship fields of its
// Packages stanza, and the apt-get command for exactly that version; the description from the
// newest stanza (the synopsis, then the extended text with its ` .` lines as blank lines).
import type { PackageBadge, PackageSite, PackageView, PackageViewVersion, RepoContext } from '../../core/format-plugin.ts';
import type { PackageRow } from '../../core/model.ts';
import type { FileWithVersion } from '../../db/store.ts';
import { viewFile } from '../../core/package-view.ts';
import { parseControl, type ControlStanza } from './control.ts';
import { compareDebVersions } from './version.ts';

const SHOWN_FIELDS = ['Architecture', 'Section', 'Priority', 'Maintainer', 'Source', 'Installed-Size', 'Pre-Depends', 'Depends', 'Recommends', 'Suggests', 'Enhances', 'Provides', 'Conflicts', 'Breaks', 'Replaces'];
const LIST_FIELDS = new Set(['Pre-Depends', 'Depends', 'Recommends', 'Suggests', 'Enhances', 'Provides', 'Conflicts', 'Breaks', 'Replaces']);

/** The stanza a stored .deb was listed with; null for proxied files (the upstream's index has it). */
function stanzaOf(f: FileWithVersion): ControlStanza | null {
  if (typeof f.meta.stanza !== 'string') return null;
  try {
    return parseControl(f.meta.stanza);
  } catch {
    return null;
  }
}

/** `Description:` split into its synopsis and its extended text (blank lines where ` .` was). */
export function debianDescription(value: string): { synopsis: string; extended: string } {
  const [synopsis, ...rest] = value.split('\n');
  return { synopsis: synopsis.trim(), extended: rest.join('\n').replace(/\s+$/, '') };
}

function fieldsOf(stanza: ControlStanza | null): [string, string | string[]][] {
  if (!stanza) return [];
  const out: [string, string | string[]][] = [];
  for (const name of SHOWN_FIELDS) {
    const value = stanza.get(name)?.replace(/\s*\n\s*/g, ' ').trim();
    if (!value) continue;
    out.push([name, LIST_FIELDS.has(name) ? value.split(',').map((s) => s.trim()).filter(Boolean) : value]);
  }
  return out;
}

export async function aptPackageView(ctx: RepoContext, pkg: PackageRow, site: PackageSite): Promise<PackageView> {
  const byVersion = new Map<string, FileWithVersion[]>((await ctx.store.listVersionNames(pkg.id)).map((v) => [v, []]));
  for (const f of await ctx.store.listFilesOfPackage(pkg.id)) if (f.version !== null) byVersion.get(f.version)?.push(f);
  const versions = [...byVersion.keys()].sort((a, b) => compareDebVersions(b, a));
  let newestStanza: ControlStanza | null = null;
  const view: PackageViewVersion[] = versions.map((version, i) => {
    const files = byVersion.get(version)!;
    const stanzas = files.map(stanzaOf);
    const stanza = stanzas.find((s) => s !== null) ?? null;
    if (newestStanza === null && stanza) newestStanza = stanza;
    const badges: PackageBadge[] = i === 0 ? [{ text: 'newest', tone: 'ok' }] : [];
    return {
      version,
      badges,
      fields: fieldsOf(stanza),
      files: files.map((f) => {
        const fb: PackageBadge[] = [];
        if (typeof f.meta.architecture === 'string') fb.push({ text: f.meta.architecture });
        const suites = Array.isArray(f.meta.suites) ? (f.meta.suites as string[]) : [];
        for (const suite of suites) fb.push({ text: `${suite}/${String(f.meta.component ?? 'main')}` });
        return viewFile(f, site, fb);
      }),
      install: [{
        text: i === 0 ? 'Install exactly this version (after apt-get update with the set-up on the repository page):' : 'Install exactly this version (apt-get may ask to downgrade):',
        code: `sudo apt-get install ${pkg.name}=${version}`,
      }],
    };
  });
  const stanza = newestStanza as ControlStanza | null;
  const description = stanza?.get('Description');
  const parts = description ? debianDescription(description) : null;
  const homepage = stanza?.get('Homepage')?.trim();
  return {
    versions: view,
    summary: parts?.synopsis || null,
    links: homepage ? [{ label: 'Homepage', url: homepage }] : [],
    description: parts && parts.extended.trim() !== '' ? { kind: 'text', text: parts.extended } : null,
  };
}
