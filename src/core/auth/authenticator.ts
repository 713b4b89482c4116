// Turns credentials into a Principal: HTTP Basic (user:password, or any user / `__token__`
// with a token as password, as twine and pip send it) and Bearer tokens.
import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../../db/store.ts';
import { WharfError, unauthorized } from '../errors.ts';
import { ANONYMOUS, type Principal } from './principal.ts';
import { verifyPassword } from './passwords.ts';
import { LoginThrottle } from './throttle.ts';
import { hashToken, looksLikeToken } from './tokens.ts';

export interface Credentials {
  scheme: 'basic' | 'bearer';
  username?: string;
  secret: string;
}

export function parseAuthorization(header: string | undefined): Credentials | null {
  if (!header) return null;
  const space = header.indexOf(' ');
  if (space < 0) return null;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') return value ? { scheme: 'bearer', secret: value } : null;
  if (scheme !== 'basic') return null;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { scheme: 'basic', username: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

const VERIFIED_TTL_MS = 5 * 60_000;

export class Authenticator {
  private readonly store: Store;
  readonly throttle = new LoginThrottle();
  // scrypt costs tens of milliseconds by design; remembering a verified password (as a keyed
  // hash, never the password) for a few minutes keeps twine uploading 1,000 files fast.
  private readonly verified = new Map<string, { userId: number; hash: string; until: number }>();
  private readonly cacheKey = randomBytes(32);

  constructor(store: Store) {
    this.store = store;
  }

  forget(): void {
    this.verified.clear();
  }

  async authenticate(creds: Credentials | null, clientKey: string): Promise<Principal> {
    if (!creds) return ANONYMOUS;
    const throttleKeys = [`ip:${clientKey}`, ...(creds.username ? [`user:${creds.username}`] : [])];
    const wait = this.throttle.retryAfter(throttleKeys);
    if (wait > 0) throw new WharfError('TOO_MANY_REQUESTS', 'too many failed logins; try again later', { 'retry-after': String(wait) });
    const principal = creds.scheme === 'bearer' || creds.username === '__token__' || looksLikeToken(creds.secret)
      ? this.byToken(creds.secret)
      : await this.byPassword(creds.username ?? '', creds.secret);
    if (!principal) {
      this.throttle.fail(throttleKeys);
      throw unauthorized('invalid credentials');
    }
    return principal;
  }

  private byToken(secret: string): Principal | null {
    const token = this.store.getTokenBySecretHash(hashToken(secret));
    if (!token) return null;
    if (token.expiresAt && Date.parse(token.expiresAt) <= Date.now()) return null;
    const user = this.store.getUserById(token.userId);
    if (!user) return null;
    this.store.touchToken(token.id);
    return { kind: 'token', user, grants: this.store.listGrants(user.id), token };
  }

  private async byPassword(username: string, password: string): Promise<Principal | null> {
    const user = this.store.getUserByName(username);
    const key = createHash('sha256').update(this.cacheKey).update(username).update('\0').update(password).digest('hex');
    const hit = this.verified.get(key);
    if (hit && user && hit.userId === user.id && hit.hash === user.passwordHash && hit.until > Date.now()) {
      return { kind: 'user', user, grants: this.store.listGrants(user.id) };
    }
    if (!user) {
      // Spend the same time as a real check so response times do not reveal user names.
      await verifyPassword(password, DUMMY_HASH);
      return null;
    }
    if (!(await verifyPassword(password, user.passwordHash))) return null;
    if (this.verified.size > 10_000) this.verified.clear();
    this.verified.set(key, { userId: user.id, hash: user.passwordHash, until: Date.now() + VERIFIED_TTL_MS });
    return { kind: 'user', user, grants: this.store.listGrants(user.id) };
  }
}

const DUMMY_HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$8Yb7yK4Zq3C2h3Y0O6lq8a2m3V9pP5nQk1rW0xYzA1s=';
