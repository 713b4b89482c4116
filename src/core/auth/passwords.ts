// Password hashing with scrypt (Node's crypto), stored as a self-describing string so the
// cost parameters can be raised later without breaking existing hashes.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { importedScheme, verifyImported } from './imported-hashes.ts';
import { verifyImportedOffLoop } from './legacy-verifier.ts';

const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEYLEN, { N: n, r, p, maxmem: 256 * n * r }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** The stored hash of a user who has no password yet: it matches no password (verifyPassword). */
export const NO_PASSWORD = '!';
const UNUSABLE_SALT = Buffer.from('wharf: no password to check');

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/**
 * True for Wharf's own hashes and for hashes an administrator imported from another tool
 * (imported-hashes.ts): those are checked once, then replaced (see needsRehash).
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const scheme = importedScheme(stored);
  // SHA-1 is one hash: cheaper here than a message to the worker; bcrypt and MD5-crypt go there.
  if (scheme === 'sha1') return verifyImported(password, stored);
  if (scheme) return verifyImportedOffLoop(password, stored);
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') {
    // No password yet (NO_PASSWORD) or nothing usable: spend a real check's time all the same,
    // so response times do not tell which accounts have no password.
    await derive(password, UNUSABLE_SALT, N, R, P);
    return false;
  }
  const [, n, r, p, salt, hash] = parts;
  const expected = Buffer.from(hash, 'base64');
  const key = await derive(password, Buffer.from(salt, 'base64'), Number(n), Number(r), Number(p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** True when a hash is not Wharf's own (an imported one): re-hash the password once it verifies. */
export function needsRehash(stored: string): boolean {
  return !stored.startsWith('scrypt$');
}

/** A password for the bootstrap admin when none is configured: 24 url-safe characters. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
