// What an Arch group's db lists, merged from its members' dbs. Pure: entries in, entries out
// (group.ts reads the dbs, builds the archive and signs it). pacman calls a db with two
// versions of one name inconsistent, so each name comes from one member: the first that has
// it; for a name the group allow-lists, the member with the newest version (vercmp; the first
// on a tie). A name a hosted member has hides that name in every later proxy member unless
// allow-listed (the dependency-confusion guard PyPI groups have). A proxy's entry younger than
// its cooldown (minAge, by the time Wharf first saw it listed) is left out; an older version
// of that name from a later member may then stand in.
import { parseDbEntry } from './desc.ts';
import { vercmp } from './vercmp.ts';
import { cooldownsFor, strictest, tooYoung, visibleFrom, type Cooldown } from '../../core/cooldown.ts';

export interface MemberDb {
  name: string;
  kind: 'hosted' | 'proxy';
  /** The db's entries by directory name (`<pkgname>-<pkgver>`), as readRepoDb gives them. */
  entries: Map<string, { desc: string; files?: string }>;
  /** Every package name a hosted member has (any architecture): the names it guards. */
  guards?: ReadonlySet<string>;
  /** A proxy's cooldowns (its own minAge and its group's): an entry younger than the strictest one that applies to its name is left out. */
  cooldowns?: readonly Cooldown[];
  /** Package file name → when this proxy first saw it listed (ms): an entry's age. */
  firstSeen?: ReadonlyMap<string, number>;
}

export interface MergedDb {
  entries: { name: string; desc: string; files?: string }[];
  /** Package file name → the member whose entry names it. */
  owners: Map<string, string>;
  /** Proxy entries the guard left out. */
  hidden: number;
  /** Proxy entries too young to list. */
  young: number;
  /** When (ms) the next young entry comes of age (Infinity: none is waiting). */
  nextVisible: number;
}

export function mergeDbs(members: readonly MemberDb[], allowlist: ReadonlySet<string>, now = Date.now()): MergedDb {
  const guarded = new Set<string>();
  const chosen = new Map<string, { dir: string; desc: string; files?: string; version: string; filename: string; member: string }>();
  let hidden = 0;
  let young = 0;
  let nextVisible = Infinity;
  for (const m of members) {
    const names = new Set<string>();
    for (const [dir, e] of m.entries) {
      const fields = parseDbEntry(e.desc);
      const name = fields.get('NAME')?.[0];
      const version = fields.get('VERSION')?.[0];
      const filename = fields.get('FILENAME')?.[0];
      if (!name || !version || !filename) continue;
      names.add(name);
      if (m.kind === 'proxy' && guarded.has(name) && !allowlist.has(name)) {
        hidden++;
        continue;
      }
      const cooldown = m.kind === 'proxy' && m.cooldowns?.length ? strictest(cooldownsFor(m.cooldowns, name)) : null;
      if (cooldown) {
        // A file never seen has no age yet: it is taken as seen now.
        const seenAt = m.firstSeen?.get(filename) ?? now;
        if (tooYoung(cooldown, seenAt, now)) {
          young++;
          nextVisible = Math.min(nextVisible, visibleFrom(cooldown, seenAt, now));
          continue;
        }
      }
      const prev = chosen.get(name);
      if (prev && !(allowlist.has(name) && vercmp(version, prev.version) > 0)) continue;
      chosen.set(name, { dir, desc: e.desc, ...(e.files !== undefined ? { files: e.files } : {}), version, filename, member: m.name });
    }
    if (m.kind === 'hosted') for (const n of m.guards ?? names) guarded.add(n);
  }
  const entries = [...chosen.values()].map((c) => ({ name: c.dir, desc: c.desc, ...(c.files !== undefined ? { files: c.files } : {}) }));
  return { entries, owners: new Map([...chosen.values()].map((c) => [c.filename, c.member])), hidden, young, nextVisible };
}
