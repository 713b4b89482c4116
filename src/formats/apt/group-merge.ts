// What an APT group serves for one suite, merged from its members' Packages indexes, and the
// Release that lists the result. Pure: texts in, texts out (group.ts fetches and signs).
// Members are taken in order: a stanza of (Package, Version, Architecture) already listed
// by an earlier member, or naming a pool file an earlier member has, is left out; a package
// name a hosted member has hides that name in every later proxy member unless the group
// allow-lists it (the dependency-confusion guard PyPI groups have). A proxy's stanza younger
// than its cooldown (minAge, by the time Wharf first saw it listed) is left out too.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { parseStanzas } from './control.ts';
import { buildRelease, type ReleaseFile } from './release.ts';
import { cooldownsFor, strictest, tooYoung, visibleFrom, type Cooldown } from '../../core/cooldown.ts';

export interface MemberSuite {
  name: string;
  kind: 'hosted' | 'proxy';
  /** `<component>/binary-<arch>` → that index's Packages text. */
  indexes: Map<string, string>;
  /** Every package name a hosted member has (any suite): the names it guards. */
  guards?: ReadonlySet<string>;
  /** A proxy's cooldowns (its own minAge and its group's): a stanza younger than the strictest one that applies to its name is left out. */
  cooldowns?: readonly Cooldown[];
  /** Pool path → when this proxy first saw it listed (ms): a stanza's age. */
  firstSeen?: ReadonlyMap<string, number>;
}

export interface MergedSuite {
  /** `<component>/binary-<arch>` → merged Packages text. */
  indexes: Map<string, string>;
  /** Pool path → the member whose stanza names it. */
  owners: Map<string, string>;
  /** Proxy stanzas the guard left out (for logs and tests). */
  hidden: number;
  /** Proxy stanzas too young to list. */
  young: number;
  /** When (ms) the next young stanza comes of age (Infinity: none is waiting). */
  nextVisible: number;
}

/**
 * The paragraphs of a Packages text, as they are written (merging copies them, never
 * re-serializes them), with the four fields the merge looks at. A line of only blanks ends a
 * paragraph (deb822); field names compare case-insensitively.
 */
const FIELD = Object.fromEntries(['Package', 'Version', 'Architecture', 'Filename'].map((n) => [n, new RegExp(`^${n}:[ \t]*(.*?)[ \t]*$`, 'im')]));

function* paragraphs(text: string): Generator<{ text: string; pkg: string; version: string; arch: string; file: string }> {
  for (const raw of text.split(/\n[ \t]*(?:\n|$)/)) {
    const para = raw.replace(/^\n+/, '');
    if (para.trim() === '') continue;
    const field = (re: RegExp) => re.exec(para)?.[1] ?? '';
    yield { text: para, pkg: field(FIELD.Package), version: field(FIELD.Version), arch: field(FIELD.Architecture), file: field(FIELD.Filename).replace(/^\.\//, '') };
  }
}

export function mergeSuite(members: readonly MemberSuite[], allowlist: ReadonlySet<string>, now = Date.now()): MergedSuite {
  const guarded = new Set<string>();
  const seen = new Set<string>();
  const owners = new Map<string, string>();
  const out = new Map<string, string[]>();
  let hidden = 0;
  let young = 0;
  let nextVisible = Infinity;
  for (const m of members) {
    const names = new Set<string>();
    for (const [dir, text] of m.indexes) {
      const list = out.get(dir) ?? [];
      out.set(dir, list);
      for (const s of paragraphs(text)) {
        const pkg = s.pkg;
        if (!pkg) continue;
        names.add(pkg);
        if (m.kind === 'proxy' && guarded.has(pkg) && !allowlist.has(pkg)) {
          hidden++;
          continue;
        }
        const cooldown = m.kind === 'proxy' && m.cooldowns?.length ? strictest(cooldownsFor(m.cooldowns, pkg)) : null;
        if (cooldown) {
          // A file never seen has no age yet: it is taken as seen now.
          const seenAt = m.firstSeen?.get(s.file) ?? now;
          if (tooYoung(cooldown, seenAt, now)) {
            young++;
            nextVisible = Math.min(nextVisible, visibleFrom(cooldown, seenAt, now));
            continue;
          }
        }
        const id = `${pkg}\0${s.version}\0${s.arch}\0${dir}`;
        if (seen.has(id) || (s.file && owners.has(s.file) && owners.get(s.file) !== m.name)) continue;
        seen.add(id);
        if (s.file) owners.set(s.file, m.name);
        list.push(s.text.endsWith('\n') ? s.text : `${s.text}\n`);
      }
    }
    // Guarded from the next member on: a hosted member's own names never hide its own stanzas.
    if (m.kind === 'hosted') for (const n of m.guards ?? names) guarded.add(n);
  }
  const indexes = new Map<string, string>();
  for (const [dir, stanzas] of [...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) indexes.set(dir, stanzas.join('\n'));
  return { indexes, owners, hidden, young, nextVisible };
}

export interface GroupReleaseInput {
  suite: string;
  codename: string;
  origin: string;
  label: string;
  date: Date;
  indexes: Map<string, string>;
}

export interface GroupSuiteFiles {
  release: string;
  /** Path relative to `dists/<suite>/` → bytes, by name and by hash (`<dir>/by-hash/<Hash>/<hex>`). */
  files: Map<string, Buffer>;
}

const digest = (algo: string, b: Uint8Array) => createHash(algo).update(b).digest('hex');

/** The Release text (Acquire-By-Hash) and every file it lists, by name and by hash. */
export function groupSuiteFiles(input: GroupReleaseInput): GroupSuiteFiles {
  const files = new Map<string, Buffer>();
  const listed: ReleaseFile[] = [];
  const components = new Set<string>();
  const architectures = new Set<string>();
  for (const [dir, text] of input.indexes) {
    const m = /^(.+)\/binary-([^/]+)$/.exec(dir);
    if (!m) continue;
    components.add(m[1]);
    architectures.add(m[2]);
    const plain = Buffer.from(text, 'utf8');
    // mtime 0 in gzip's header: equal input, equal bytes (the by-hash names stay put).
    for (const [name, bytes] of [['Packages', plain], ['Packages.gz', gzipSync(plain, { level: 6 })]] as const) {
      const rel = `${dir}/${name}`;
      const f = { path: rel, size: bytes.length, md5: digest('md5', bytes), sha256: digest('sha256', bytes), sha512: digest('sha512', bytes) };
      listed.push(f);
      files.set(rel, bytes);
      files.set(`${dir}/by-hash/SHA256/${f.sha256}`, bytes);
      files.set(`${dir}/by-hash/SHA512/${f.sha512}`, bytes);
      files.set(`${dir}/by-hash/MD5Sum/${f.md5}`, bytes);
    }
  }
  const release = buildRelease({
    origin: input.origin, label: input.label, suite: input.suite, codename: input.codename, date: input.date,
    acquireByHash: true, architectures: [...architectures].sort(), components: [...components].sort(), files: listed,
  });
  return { release, files };
}

/** `<component>/binary-<arch>` directories a Release lists, with the Packages variant to read (smallest to decode first: .gz, plain, .xz). */
export function packagesOfRelease(releaseText: string): Map<string, { path: string; sha256: string }> {
  const [stanza] = parseStanzas(releaseText);
  const out = new Map<string, { path: string; sha256: string; rank: number }>();
  const rank: Record<string, number> = { '.gz': 0, '': 1, '.xz': 2 };
  for (const line of (stanza?.get('SHA256') ?? '').split('\n')) {
    const [hex, , p] = line.trim().split(/\s+/);
    const m = p ? /^(.+\/binary-[^/]+)\/Packages(\.gz|\.xz)?$/.exec(p) : null;
    if (!m || !/^[0-9a-f]{64}$/i.test(hex) || m[1].includes('/debian-installer/') || m[1].split('/').some((x) => x === '' || x === '.' || x === '..')) continue;
    const r = rank[m[2] ?? ''];
    const prev = out.get(m[1]);
    if (!prev || r < prev.rank) out.set(m[1], { path: p, sha256: hex.toLowerCase(), rank: r });
  }
  return new Map([...out].map(([k, v]) => [k, { path: v.path, sha256: v.sha256 }]));
}

/** The Release header field, from a Release (or InRelease's signed) text. */
export function releaseField(releaseText: string, field: string): string | undefined {
  return parseStanzas(releaseText)[0]?.get(field);
}
