// Password hashes another tool wrote (an htpasswd file: bcrypt, {SHA} SHA-1, apr1/MD5-crypt),
// imported by an administrator during a migration. Wharf checks one only at that user's first
// login and then replaces it with its own scrypt hash (passwords.ts); it never makes them.
// Plain text and crypt(3) DES are not accepted: the first is no hash at all, the second keeps
// 8 characters of a password and takes seconds to break.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isBcrypt, verifyBcrypt } from './bcrypt.ts';

export type ImportedScheme = 'bcrypt' | 'sha1' | 'md5-crypt';

const CRYPT64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const MD5_CRYPT_RE = /^\$(apr1|1)\$([^$]{0,8})\$([./0-9A-Za-z]{22})$/;
const SHA1_RE = /^\{SHA\}([A-Za-z0-9+/]{27}=)$/;

/** The scheme of a hash Wharf can check once, or null. */
export function importedScheme(hash: string): ImportedScheme | null {
  if (isBcrypt(hash)) return 'bcrypt';
  if (SHA1_RE.test(hash)) return 'sha1';
  if (MD5_CRYPT_RE.test(hash)) return 'md5-crypt';
  return null;
}

/** Why an htpasswd entry's hash cannot be imported (for the migration's report). */
export function whyNotImportable(hash: string): string {
  if (/^\$2[aby]\$\d\d\$/.test(hash)) return `bcrypt cost ${hash.slice(4, 6)} is outside 04..16`;
  if (/^\$[56]\$/.test(hash)) return 'SHA-crypt hashes ($5$/$6$) are not supported; the user must be given a new password';
  if (/^[./0-9A-Za-z]{13}$/.test(hash)) return 'a crypt(3) DES hash (8 characters of the password at most, easily broken); the user must be given a new password';
  if (hash.startsWith('$')) return `an unknown hash scheme ${hash.split('$')[1] ?? ''}; the user must be given a new password`;
  return 'a plain-text password, not a hash; the user must be given a new password';
}

function to64(v: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++, v >>= 6) s += CRYPT64[v & 0x3f];
  return s;
}

/** MD5-crypt (`$1$`) and Apache's variant (`$apr1$`), as htpasswd -m and openssl passwd -apr1 make. */
export function md5Crypt(password: string, magic: 'apr1' | '1', salt: string): string {
  const pw = Buffer.from(password, 'utf8');
  const sl = Buffer.from(salt, 'utf8');
  const md5 = () => createHash('md5');
  const ctx = md5().update(pw).update(`$${magic}$`).update(sl);
  let fin = md5().update(pw).update(sl).update(pw).digest();
  for (let pl = pw.length; pl > 0; pl -= 16) ctx.update(fin.subarray(0, Math.min(pl, 16)));
  for (let i = pw.length; i; i >>= 1) ctx.update(i & 1 ? Buffer.alloc(1) : pw.subarray(0, 1));
  fin = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const c = md5();
    c.update(i & 1 ? pw : fin);
    if (i % 3) c.update(sl);
    if (i % 7) c.update(pw);
    c.update(i & 1 ? fin : pw);
    fin = c.digest();
  }
  const f = fin;
  const enc = to64((f[0] << 16) | (f[6] << 8) | f[12], 4) + to64((f[1] << 16) | (f[7] << 8) | f[13], 4)
    + to64((f[2] << 16) | (f[8] << 8) | f[14], 4) + to64((f[3] << 16) | (f[9] << 8) | f[15], 4)
    + to64((f[4] << 16) | (f[10] << 8) | f[5], 4) + to64(f[11], 2);
  return `$${magic}$${salt}$${enc}`;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function verifyImported(password: string, hash: string): boolean {
  switch (importedScheme(hash)) {
    case 'bcrypt':
      return verifyBcrypt(password, hash);
    case 'sha1':
      return same(`{SHA}${createHash('sha1').update(password, 'utf8').digest('base64')}`, hash);
    case 'md5-crypt': {
      const m = MD5_CRYPT_RE.exec(hash)!;
      return same(md5Crypt(password, m[1] as 'apr1' | '1', m[2]), hash);
    }
    default:
      return false;
  }
}
