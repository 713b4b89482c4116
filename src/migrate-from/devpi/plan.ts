// What a devpi export becomes in Wharf, decided without touching either (docs/migrate.md):
//   a stage index `user/index` without bases -> hosted PyPI repository `user-index`;
//   a stage index with bases -> group `user-index` of the hosted `user-index-local` (where
//     uploads go) and its bases' repositories, in devpi's order;
//   a mirror index (root/pypi) -> proxy `root-pypi` of its mirror_url (pypi.org by default);
//   volatile -> allowOverwrite; the owner -> admin, acl_upload users -> write, acl_read -> read.
// `--rename user/index=name` picks another name; names are lowercased as Wharf requires.
import type { DevpiExport, DevpiIndex, DevpiReleaseFile } from './export.ts';
import { DevpiExportError } from './export.ts';

export const DEFAULT_MIRROR = 'https://pypi.org/simple/';
/** devpi's superuser: Wharf's own administrators take its place. */
export const DEVPI_ROOT = 'root';

export interface PlannedRepo {
  name: string;
  /** The devpi index it comes from. */
  index: string;
  kind: 'hosted' | 'proxy' | 'group';
  public: boolean;
  options: Record<string, unknown>;
}

export interface PlannedGrant {
  user: string;
  repo: string;
  permission: 'read' | 'write' | 'admin';
}

export interface PlannedFile extends DevpiReleaseFile {
  repo: string;
  index: string;
}

export interface Skip {
  kind: 'repository' | 'user' | 'grant' | 'file';
  name: string;
  reason: string;
}

export interface MigrationPlan {
  repos: PlannedRepo[];
  users: { name: string }[];
  grants: PlannedGrant[];
  files: PlannedFile[];
  skipped: Skip[];
  /** devpi index -> the Wharf repository pip should use (the group where there is one). */
  indexRepo: Map<string, string>;
  /** devpi index -> the Wharf repository its uploads land in (stage indexes only). */
  uploadRepo: Map<string, string>;
}

/** `user/index` -> `user-index`, lowercase, other characters as '-'. */
export function defaultRepoName(index: string): string {
  return index.toLowerCase().replace(/\//g, '-').replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '');
}

const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** The user names Wharf's users API takes (src/server/api/users.ts USER_RE). */
const USER_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `devpiUrls`: each index's repository also answers at `/<user>/<index>/` (option `aliases`). */
export function planMigration(exp: DevpiExport, rename: Map<string, string> = new Map(), devpiUrls = false): MigrationPlan {
  const alias = (ix: DevpiIndex): Record<string, unknown> => (devpiUrls ? { aliases: [ix.name] } : {});
  const plan: MigrationPlan = { repos: [], users: [], grants: [], files: [], skipped: [], indexRepo: new Map(), uploadRepo: new Map() };
  const known = new Set(exp.indexes.map((i) => i.name));
  for (const from of rename.keys()) if (!known.has(from)) throw new DevpiExportError(`--rename ${from}: the export has no index ${from}`);
  const taken = new Map<string, string>();
  const claim = (name: string, index: string) => {
    if (!NAME_RE.test(name) || name === '-') throw new DevpiExportError(`index ${index} would become repository ${JSON.stringify(name)}, not a valid name: give it one with --rename ${index}=NAME`);
    const other = taken.get(name);
    if (other) throw new DevpiExportError(`indexes ${other} and ${index} would both become repository ${name}: give one another name with --rename`);
    taken.set(name, index);
  };
  const userNames = new Set<string>();
  for (const u of exp.users) {
    if (u.name === DEVPI_ROOT) plan.skipped.push({ kind: 'user', name: u.name, reason: "devpi's superuser: Wharf's administrators take its place" });
    // Found now, not by a refused request halfway through the migration.
    else if (!USER_RE.test(u.name) || u.name === '__token__') plan.skipped.push({ kind: 'user', name: u.name, reason: 'not a valid Wharf user name (letters, digits, ".", "_", "-", at most 64; not __token__)' });
    else {
      userNames.add(u.name);
      plan.users.push({ name: u.name });
    }
  }
  const grant = (user: string, repo: string, permission: PlannedGrant['permission'], index: string) => {
    if (user.startsWith(':')) {
      plan.skipped.push({ kind: 'grant', name: `${user} ${permission} ${repo}`, reason: `devpi's ${user} in ${index}'s ACL: Wharf grants go to named users only` });
    } else if (user === DEVPI_ROOT) {
      // root is not migrated; Wharf's administrators may do anything anyway.
    } else if (!userNames.has(user)) {
      plan.skipped.push({ kind: 'grant', name: `${user} ${permission} ${repo}`, reason: `${index}'s ACL names ${user}, who is not in the export or not migrated` });
    } else if (!plan.grants.some((g) => g.user === user && g.repo === repo)) plan.grants.push({ user, repo, permission });
  };

  for (const ix of exp.indexes) {
    const name = rename.get(ix.name) ?? defaultRepoName(ix.name);
    const readers = ix.aclRead;
    const isPublic = readers === undefined || readers.includes(':ANONYMOUS:');
    if (ix.type === 'mirror') {
      claim(name, ix.name);
      plan.repos.push({ name, index: ix.name, kind: 'proxy', public: isPublic, options: { upstream: ix.mirrorUrl ?? DEFAULT_MIRROR, ...alias(ix) } });
      plan.indexRepo.set(ix.name, name);
      for (const f of ix.files) plan.skipped.push({ kind: 'file', name: f.relpath, reason: `cached by the mirror ${ix.name}: the proxy fetches it again` });
      continue;
    }
    if (ix.type !== 'stage') {
      plan.skipped.push({ kind: 'repository', name: ix.name, reason: `index type ${JSON.stringify(ix.type)} is not one devpi-server itself defines (stage, mirror)` });
      continue;
    }
    const bases = ix.bases.filter((b) => {
      if (known.has(b)) return true;
      plan.skipped.push({ kind: 'repository', name: `${ix.name} base ${b}`, reason: `base ${b} is not in the export` });
      return false;
    });
    const hosted = bases.length ? `${name}-local` : name;
    claim(hosted, ix.name);
    plan.repos.push({ name: hosted, index: ix.name, kind: 'hosted', public: isPublic, options: { allowOverwrite: ix.volatile, ...(bases.length ? {} : alias(ix)) } });
    plan.uploadRepo.set(ix.name, hosted);
    const repos = [hosted];
    if (bases.length) {
      claim(name, ix.name);
      // Bases come first in the export's order (orderByBases), so their repositories are known.
      const members = [hosted, ...bases.map((b) => plan.indexRepo.get(b)).filter((r): r is string => r !== undefined)];
      plan.repos.push({ name, index: ix.name, kind: 'group', public: isPublic, options: { members, uploadTo: hosted, ...alias(ix) } });
      repos.push(name);
    }
    plan.indexRepo.set(ix.name, name);
    for (const r of repos) {
      grant(ix.user, r, 'admin', ix.name);
      for (const u of ix.aclUpload) if (u !== ix.user) grant(u, r, 'write', ix.name);
      if (!isPublic) for (const u of readers ?? []) grant(u, r, 'read', ix.name);
    }
    for (const f of ix.files) plan.files.push({ ...f, repo: hosted, index: ix.name });
    for (const f of ix.otherFiles) {
      plan.skipped.push({ kind: 'file', name: f.relpath, reason: f.type === 'doczip' ? 'a documentation zip: Wharf does not host documentation' : `a devpi ${f.type}: Wharf has no place for it` });
    }
  }
  return plan;
}

/** `--rename` values `user/index=name`, as a map. */
export function parseRenames(values: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1) throw new DevpiExportError(`--rename ${JSON.stringify(v)}: write user/index=name`);
    m.set(v.slice(0, eq), v.slice(eq + 1));
  }
  return m;
}

export type { DevpiIndex };
