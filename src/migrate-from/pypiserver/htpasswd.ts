// An Apache htpasswd file as pypiserver reads it (through passlib): one `name:hash` a line.
import { importedScheme, whyNotImportable, type ImportedScheme } from '../../core/auth/imported-hashes.ts';

export interface HtpasswdEntry {
  name: string;
  hash: string;
  /** The scheme Wharf checks at the first login, or null with `reason`. */
  scheme: ImportedScheme | null;
  reason?: string;
}

/** Wharf's user names (src/server/api/users.ts USER_RE). */
const USER_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function parseHtpasswd(text: string): HtpasswdEntry[] {
  const entries: HtpasswdEntry[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (!USER_RE.test(name) || name === '__token__') {
      entries.push({ name, hash, scheme: null, reason: 'not a valid Wharf user name (letters, digits, . _ -, at most 64)' });
      continue;
    }
    const scheme = importedScheme(hash);
    entries.push(scheme ? { name, hash, scheme } : { name, hash, scheme: null, reason: whyNotImportable(hash) });
  }
  return entries;
}
