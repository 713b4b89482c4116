// The directory `devpi-export` writes: `dataindex.json` (users, indexes with their config,
// projects' metadata and file descriptions) beside the files at their `relpath`. Pure parsing:
// the caller reads the JSON and says which files exist. Dump versions 1 and 2 are the ones
// devpi-import itself accepts (server/devpi_server/importexport.py).

export class DevpiExportError extends Error {
  override name = 'DevpiExportError';
}

export const DUMP_VERSIONS = ['1', '2'];

export interface DevpiUser {
  name: string;
  email?: string;
  /** devpi's own hash (argon2 or an older salted SHA-256): never usable elsewhere. */
  hasPassword: boolean;
}

export interface DevpiReleaseFile {
  project: string;
  version: string;
  filename: string;
  /** Path below the export directory. */
  relpath: string;
  sha256?: string;
  /** When devpi stored it (ISO), from its log or last_modified. */
  uploadedAt?: string;
  /** Who uploaded it, from devpi's log. */
  uploadedBy?: string;
}

export interface DevpiIndex {
  /** `user/index` */
  name: string;
  user: string;
  index: string;
  type: 'stage' | 'mirror' | string;
  bases: string[];
  volatile: boolean;
  aclUpload: string[];
  /** acl_read where the export has one (devpi-lockdown and newer devpi); undefined: everyone. */
  aclRead?: string[];
  mirrorUrl?: string;
  files: DevpiReleaseFile[];
  /** Files of other kinds (documentation zips, tox results), which Wharf has no place for. */
  otherFiles: { relpath: string; type: string }[];
}

export interface DevpiExport {
  dumpVersion: string;
  devpiServer?: string;
  users: DevpiUser[];
  indexes: DevpiIndex[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(v: unknown): string[] {
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

/** A time as ISO 8601 with a four-digit year, or undefined (a damaged export's NaN or year 275760). */
function iso(t: number): string | undefined {
  if (!Number.isFinite(t)) return undefined;
  const s = new Date(t).toISOString();
  return /^\d{4}-/.test(s) ? s : undefined;
}

/** devpi logs `when` as [y, m, d, H, M, S] in UTC; last_modified is an HTTP date. */
function uploadTime(log: unknown, lastModified: unknown): string | undefined {
  if (Array.isArray(log)) {
    for (const entry of log) {
      if (isObject(entry) && entry.what === 'upload' && Array.isArray(entry.when) && entry.when.length >= 6 && entry.when.every((n) => Number.isInteger(n))) {
        const [y, mo, d, h, mi, s] = entry.when as number[];
        // Date.UTC would read year 5 as 1905 and roll month 13 into the next year: out of range is no time.
        if (y < 1000 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) return undefined;
        return iso(Date.UTC(y, mo - 1, d, h, mi, s));
      }
    }
  }
  if (typeof lastModified === 'string') return iso(Date.parse(lastModified));
  return undefined;
}

function uploader(log: unknown): string | undefined {
  if (!Array.isArray(log)) return undefined;
  const up = log.find((e) => isObject(e) && e.what === 'upload' && typeof e.who === 'string');
  return up ? ((up as Record<string, unknown>).who as string) : undefined;
}

/** Parses dataindex.json's text; throws DevpiExportError with what is wrong. */
export function parseDevpiExport(text: string): DevpiExport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new DevpiExportError(`dataindex.json is not JSON: ${(err as Error).message}`);
  }
  if (!isObject(data) || !('dumpversion' in data)) throw new DevpiExportError('dataindex.json has no dumpversion: not a devpi export');
  const dumpVersion = String(data.dumpversion);
  if (!DUMP_VERSIONS.includes(dumpVersion)) {
    throw new DevpiExportError(`unknown devpi dump version ${JSON.stringify(dumpVersion)} (this migration reads versions ${DUMP_VERSIONS.join(' and ')}, as devpi-import does)`);
  }
  if (!isObject(data.users) || !isObject(data.indexes)) throw new DevpiExportError('dataindex.json lacks its users or indexes: not a devpi export');

  const users: DevpiUser[] = Object.entries(data.users).map(([name, u]) => ({
    name,
    ...(isObject(u) && typeof u.email === 'string' && u.email ? { email: u.email } : {}),
    hasPassword: isObject(u) && typeof u.pwhash === 'string' && u.pwhash !== '',
  }));

  const indexes: DevpiIndex[] = [];
  for (const [name, raw] of Object.entries(data.indexes)) {
    const [user, index, ...rest] = name.split('/');
    if (!user || !index || rest.length) throw new DevpiExportError(`index name ${JSON.stringify(name)} is not user/index`);
    if (!isObject(raw) || !isObject(raw.indexconfig)) throw new DevpiExportError(`index ${name} has no indexconfig`);
    const cfg = raw.indexconfig;
    const files: DevpiReleaseFile[] = [];
    const otherFiles: DevpiIndex['otherFiles'] = [];
    for (const f of Array.isArray(raw.files) ? raw.files : []) {
      if (!isObject(f) || typeof f.relpath !== 'string') throw new DevpiExportError(`index ${name} lists a file without a relpath`);
      if (f.relpath.split('/').some((seg) => seg === '..' || seg === '') || f.relpath.startsWith('/')) {
        throw new DevpiExportError(`index ${name} lists a file outside the export: ${JSON.stringify(f.relpath)}`);
      }
      const type = typeof f.type === 'string' ? f.type : 'releasefile';
      if (type !== 'releasefile') {
        otherFiles.push({ relpath: f.relpath, type });
        continue;
      }
      const mapping = isObject(f.entrymapping) ? f.entrymapping : {};
      const hashes = isObject(mapping.hashes) ? mapping.hashes : {};
      let sha256 = typeof hashes.sha256 === 'string' ? hashes.sha256 : undefined;
      if (!sha256 && typeof mapping.hash_spec === 'string' && mapping.hash_spec.startsWith('sha256=')) sha256 = mapping.hash_spec.slice(7);
      const filename = f.relpath.split('/').pop()!;
      const uploadedAt = uploadTime(f.log, mapping.last_modified);
      const by = uploader(f.log);
      files.push({
        project: typeof f.projectname === 'string' ? f.projectname : String(mapping.project ?? ''),
        // Dump version 1 wrote no version; it is in the file name, which Wharf reads anyway.
        version: typeof f.version === 'string' ? f.version : '',
        filename,
        relpath: f.relpath,
        ...(sha256 ? { sha256: sha256.toLowerCase() } : {}),
        ...(uploadedAt ? { uploadedAt } : {}),
        ...(by ? { uploadedBy: by } : {}),
      });
    }
    indexes.push({
      name,
      user,
      index,
      type: typeof cfg.type === 'string' ? cfg.type : 'stage',
      bases: strings(cfg.bases),
      volatile: cfg.volatile === true || cfg.volatile === 'True' || cfg.volatile === 'true',
      aclUpload: strings(cfg.acl_upload),
      ...('acl_read' in cfg ? { aclRead: strings(cfg.acl_read) } : {}),
      ...(typeof cfg.mirror_url === 'string' ? { mirrorUrl: cfg.mirror_url } : {}),
      files,
      otherFiles,
    });
  }
  // Bases first, so a group is created after its members.
  return { dumpVersion, ...(typeof data.devpi_server === 'string' ? { devpiServer: data.devpi_server } : {}), users, indexes: orderByBases(indexes) };
}

/** Indexes ordered so that every base comes before the indexes built on it. */
export function orderByBases(indexes: DevpiIndex[]): DevpiIndex[] {
  const byName = new Map(indexes.map((i) => [i.name, i]));
  const done = new Set<string>();
  const out: DevpiIndex[] = [];
  const visit = (i: DevpiIndex, path: string[]) => {
    if (done.has(i.name)) return;
    if (path.includes(i.name)) throw new DevpiExportError(`indexes inherit from each other in a circle: ${[...path, i.name].join(' -> ')}`);
    for (const b of i.bases) {
      const base = byName.get(b);
      if (base) visit(base, [...path, i.name]);
    }
    done.add(i.name);
    out.push(i);
  };
  for (const i of [...indexes].sort((a, b) => a.name.localeCompare(b.name))) visit(i, []);
  return out;
}

/** Every release file the export lists that `exists` says is absent (relpaths). */
export function missingFiles(exp: DevpiExport, exists: (relpath: string) => boolean): string[] {
  return exp.indexes.flatMap((i) => i.files.map((f) => f.relpath)).filter((p) => !exists(p));
}
