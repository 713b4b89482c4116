// Reading a published APT repository (reprepro's or aptly's output: `dists/` + `pool/`) into
// what a migration needs: each suite with its Release header fields, and every .deb each
// suite/component lists in its Packages files, with the SHA256 and size the index promises.
// reprepro's `conf/distributions`, when present, names the suites and their settings (a
// suite not yet exported still comes along with its settings). Pure apart from reading files.
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { parseStanzas, type ControlStanza } from '../../formats/apt/control.ts';
import { createDecompressor, detectCompression } from '../../lib/compression.ts';

export interface AptSuite {
  /** The folder below `dists/` (reprepro's and aptly's Codename, or aptly's distribution). */
  name: string;
  codename?: string;
  /** The Release file's `Suite:` (e.g. stable), when it differs from the folder name. */
  suite?: string;
  origin?: string;
  label?: string;
  description?: string;
  components: string[];
  architectures: string[];
}

export interface AptDeb {
  suite: string;
  component: string;
  /** Relative to the repository's root, as the Packages `Filename:` says (pool/…/x.deb). */
  filename: string;
  sha256: string;
  size: number;
  package: string;
  version: string;
  architecture: string;
}

export interface AptTree {
  root: string;
  suites: AptSuite[];
  /** One per suite/component/file (a .deb listed by several architectures counts once). */
  debs: AptDeb[];
  /** Indexes that could not be read, with why. */
  problems: { what: string; reason: string }[];
  /** Where the suites were learned from. */
  from: 'conf/distributions' | 'dists';
}

const words = (v: string | undefined) => (v ?? '').split(/\s+/).filter(Boolean);
const exists = (p: string) => stat(p).then(() => true, () => false);

/** The Release fields Wharf keeps, from a Release stanza or a conf/distributions stanza. */
function suiteOf(name: string, s: ControlStanza): AptSuite {
  const suite: AptSuite = {
    name,
    components: words(s.get('Components')),
    // `source` is not a binary architecture; `all` goes into every binary one.
    architectures: words(s.get('Architectures')).filter((a) => a !== 'source' && a !== 'all'),
  };
  const codename = s.get('Codename');
  if (codename) suite.codename = codename;
  const suiteName = s.get('Suite');
  if (suiteName && suiteName !== name) suite.suite = suiteName;
  for (const [field, key] of [['Origin', 'origin'], ['Label', 'label'], ['Description', 'description']] as const) {
    const v = s.get(field);
    if (v) suite[key] = v.split('\n')[0];
  }
  return suite;
}

/** Read a Packages index in whichever form the suite published (plain, .gz, .xz, .bz2). */
async function readPackagesIndex(dir: string): Promise<string | null> {
  for (const name of ['Packages', 'Packages.gz', 'Packages.xz', 'Packages.bz2']) {
    const p = join(dir, name);
    if (!(await exists(p))) continue;
    const bytes = await readFile(p);
    const kind = detectCompression(bytes.subarray(0, 6));
    if (kind === 'none') return bytes.toString('utf8');
    return (await buffer(Readable.from([bytes]).pipe(createDecompressor(kind)))).toString('utf8');
  }
  return null;
}

/** A Filename that stays inside the repository (an index naming ../ is not followed). */
function safeRelative(filename: string): string | null {
  const n = normalize(filename);
  if (n.startsWith('..') || n.startsWith(sep) || n.includes(`${sep}..${sep}`)) return null;
  return n;
}

export async function readAptTree(root: string): Promise<AptTree> {
  const problems: AptTree['problems'] = [];
  let suites: AptSuite[] = [];
  let from: AptTree['from'] = 'dists';
  const distributions = join(root, 'conf', 'distributions');
  if (await exists(distributions)) {
    from = 'conf/distributions';
    for (const s of parseStanzas(await readFile(distributions, 'utf8'))) {
      const codename = s.get('Codename');
      if (!codename) {
        problems.push({ what: 'conf/distributions', reason: 'a stanza without Codename' });
        continue;
      }
      suites.push(suiteOf(codename, s));
    }
  } else {
    const dists = join(root, 'dists');
    if (!(await exists(dists))) throw new Error(`${root} has neither conf/distributions nor dists/: not a reprepro base directory or a published APT repository`);
    for (const entry of (await readdir(dists, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      // reprepro links a Suite name (stable) to its Codename folder: the folder is the suite.
      if (!entry.isDirectory()) continue;
      const dir = join(dists, entry.name);
      const release = (await exists(join(dir, 'Release'))) ? join(dir, 'Release') : null;
      if (!release) {
        problems.push({ what: `dists/${entry.name}`, reason: 'no Release file' });
        continue;
      }
      const [stanza] = parseStanzas(await readFile(release, 'utf8'));
      if (stanza) suites.push(suiteOf(entry.name, stanza));
    }
  }
  suites = suites.sort((a, b) => a.name.localeCompare(b.name));

  const debs: AptDeb[] = [];
  for (const suite of suites) {
    const seen = new Set<string>();
    const archs = [...suite.architectures, 'all'];
    for (const component of suite.components) {
      for (const arch of archs) {
        const dir = join(root, 'dists', suite.name, component, `binary-${arch}`);
        let text: string | null;
        try {
          text = await readPackagesIndex(dir);
        } catch (err) {
          problems.push({ what: `dists/${suite.name}/${component}/binary-${arch}/Packages`, reason: (err as Error).message });
          continue;
        }
        if (text === null) continue;
        for (const s of parseStanzas(text)) {
          const rel = safeRelative(s.get('Filename') ?? '');
          const name = s.get('Package') ?? '?';
          if (!rel || !rel.endsWith('.deb')) {
            problems.push({ what: `${suite.name}/${component} ${name}`, reason: `Filename ${JSON.stringify(s.get('Filename') ?? '')} is not a .deb inside the repository` });
            continue;
          }
          const key = `${component}/${rel}`;
          if (seen.has(key)) continue;
          seen.add(key);
          debs.push({
            suite: suite.name, component, filename: rel,
            sha256: (s.get('SHA256') ?? '').toLowerCase(), size: Number(s.get('Size') ?? NaN),
            package: name, version: s.get('Version') ?? '', architecture: s.get('Architecture') ?? arch,
          });
        }
      }
    }
  }
  return { root, suites, debs, problems, from };
}
