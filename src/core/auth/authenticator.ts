// Turns credentials into a Principal: HTTP Basic (user:password, or any user / `__token__`
// with a token as password, as twine and pip send it) and Bearer tokens.
import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../../db/store.ts';
import { WharfError, unauthorized } from '../errors.ts';
import { ANONYMOUS, type Principal } from './principal.ts';
import { rehashPassword } from './account-changes.ts';
import { importedScheme } from './imported-hashes.ts';
import { hashPassword, needsRehash, verifyPassword } from './passwords.ts';
import { KeyedMutex } from '../keyed-mutex.ts';
import { LoginThrottle, throttleAddress } from './throttle.ts';
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
/** Failed passwords per minute for one user name from one client address. */
export const NAME_LIMIT = 10;
/** Failed passwords per minute from one client address, whatever the names. */
export const ADDRESS_LIMIT = 100;

export class Authenticator {
  private readonly store: Store;
  readonly throttle = new LoginThrottle();
  private readonly checking = new KeyedMutex();
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

  /**
   * `clientAddress` is the real client's (behind trusted proxies, from X-Forwarded-For).
   * Tokens are long random strings that nobody guesses, so a valid one is never throttled and
   * an invalid one is simply refused. A password is refused unheard (429) when this name has
   * failed too often from this address, or this address has failed too often for any names
   * (spraying); a password verified in the last few minutes is never refused, so running
   * sessions (twine, pip) carry on while someone else is throttled (docs/security.md).
   */
  async authenticate(creds: Credentials | null, clientAddress: string): Promise<Principal> {
    if (!creds) return ANONYMOUS;
    if (creds.scheme === 'bearer' || creds.username === '__token__' || looksLikeToken(creds.secret)) {
      const principal = await this.byToken(creds.secret);
      if (!principal) throw unauthorized('invalid credentials');
      return principal;
    }
    return this.password(creds.username ?? '', creds.secret, clientAddress);
  }

  /**
   * A user name and password from the sign-in form: the same users, passwords and throttle as
   * HTTP Basic, so failures through either count together. A token is not a password here: a
   * browser session is a password login (it may manage the user's tokens), which a token never is.
   */
  async login(username: string, password: string, clientAddress: string): Promise<Extract<Principal, { kind: 'user' }>> {
    if (username === '__token__' || looksLikeToken(password)) throw unauthorized('sign in with your user name and password, not a token');
    const p = await this.password(username, password, clientAddress);
    if (p.kind !== 'user') throw unauthorized('invalid credentials');
    return p;
  }

  private async password(username: string, secret: string, clientAddress: string): Promise<Principal> {
    const known = await this.recentlyVerified(username, secret);
    if (known) return known;
    const client = throttleAddress(clientAddress);
    // User names are at most 64 characters: a longer one cannot log in, and is not kept whole.
    const nameKey = `name:${client}\0${username.slice(0, 65)}`;
    const addressKey = `addr:${client}`;
    // One check at a time per name and address, and every check under way counts against the
    // address: attempts sent all at once would otherwise all pass the throttle before the
    // first had failed (60 of 60 concurrent guesses were heard). Right passwords sent at once
    // wait for the first, then pass as recently verified.
    return this.checking.run(nameKey, async () => {
      const again = await this.recentlyVerified(username, secret);
      if (again) return again;
      const wait = this.throttle.retryAfter([{ key: nameKey, limit: NAME_LIMIT }, { key: addressKey, limit: ADDRESS_LIMIT }]);
      if (wait > 0) throw new WharfError('TOO_MANY_REQUESTS', 'too many failed logins; try again later', { 'retry-after': String(wait) });
      this.throttle.begin([addressKey]);
      let principal: Principal | null;
      try {
        principal = await this.byPassword(username, secret);
      } finally {
        this.throttle.settle([addressKey]);
      }
      if (!principal) {
        this.throttle.fail([nameKey, addressKey]);
        throw unauthorized('invalid credentials');
      }
      this.throttle.succeed([nameKey]);
      return principal;
    });
  }

  private async byToken(secret: string): Promise<Principal | null> {
    const token = await this.store.getTokenBySecretHash(hashToken(secret));
    if (!token) return null;
    if (token.expiresAt && Date.parse(token.expiresAt) <= Date.now()) return null;
    const user = await this.store.getUserById(token.userId);
    if (!user) return null;
    await this.store.touchToken(token.id);
    return { kind: 'token', user, grants: await this.store.listGrants(user.id), token };
  }

  private passwordKey(username: string, password: string): string {
    return createHash('sha256').update(this.cacheKey).update(username).update('\0').update(password).digest('hex');
  }

  /** The user, when this exact password was verified for them within VERIFIED_TTL_MS. */
  private async recentlyVerified(username: string, password: string): Promise<Principal | null> {
    const hit = this.verified.get(this.passwordKey(username, password));
    if (!hit || hit.until <= Date.now()) return null;
    const user = await this.store.getUserByName(username);
    if (!user || hit.userId !== user.id || hit.hash !== user.passwordHash) return null;
    return { kind: 'user', user, grants: await this.store.listGrants(user.id) };
  }

  private async byPassword(username: string, password: string): Promise<Principal | null> {
    let user = await this.store.getUserByName(username);
    if (!user) {
      // Spend the same time as a real check so response times do not reveal user names.
      await verifyPassword(password, DUMMY_HASH);
      return null;
    }
    if (!(await verifyPassword(password, user.passwordHash))) return null;
    if (needsRehash(user.passwordHash)) {
      // An imported hash (docs/migrate.md) is checked once: from now on the password is Wharf's scrypt.
      const hash = await hashPassword(password);
      const from = importedScheme(user.passwordHash) ?? 'unknown';
      if (await rehashPassword(this.store, user, from, hash)) user = { ...user, passwordHash: hash };
      else {
        // Changed meanwhile: another login re-hashed it, or an administrator set a new password.
        const now = await this.store.getUserById(user.id);
        if (!now || !(await verifyPassword(password, now.passwordHash))) return null;
        user = now;
      }
    }
    if (this.verified.size > 10_000) this.verified.clear();
    this.verified.set(this.passwordKey(username, password), { userId: user.id, hash: user.passwordHash, until: Date.now() + VERIFIED_TTL_MS });
    return { kind: 'user', user, grants: await this.store.listGrants(user.id) };
  }
}

const DUMMY_HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$8Yb7yK4Zq3C2h3Y0O6lq8a2m3V9pP5nQk1rW0xYzA1s=';
