// Browser sessions: a password login through the sign-in form becomes a random secret that
// the browser keeps in a cookie. Only a sha256 of the secret is stored (a copy of the
// database does not sign anyone in), with the session's CSRF token, its user and its times.
// A session ends at sign-out, after `idleMs` without a request, `maxAgeMs` after sign-in,
// when its user's password changes (Store.setUserPassword) or when the user is deleted.
import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../../db/store.ts';
import type { SessionRow, User } from '../model.ts';
import type { Principal } from './principal.ts';

export interface SessionOptions {
  /** A session unused this long ends. */
  idleMs: number;
  /** A session ends this long after sign-in, however busy. */
  maxAgeMs: number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = { idleMs: 12 * 3600_000, maxAgeMs: 7 * 86_400_000 };

/** last_seen_at is written at most this often per session: a page view is not a write. */
const TOUCH_EVERY_MS = 60_000;

export const hashSessionSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

export type SessionPrincipal = Extract<Principal, { kind: 'session' }>;

export class Sessions {
  private readonly store: Store;
  options: SessionOptions = { ...DEFAULT_SESSION_OPTIONS };

  constructor(store: Store) {
    this.store = store;
  }

  /** A new session for `user`: the secret goes into the cookie and is not kept. */
  async create(user: User, now = Date.now()): Promise<{ secret: string; row: SessionRow }> {
    // Old sessions are dropped here rather than by a timer: sign-ins are rare and the table small.
    await this.store.deleteExpiredSessions(now, now - this.options.idleMs);
    const secret = randomBytes(32).toString('base64url');
    const row: SessionRow = {
      secretHash: hashSessionSecret(secret), userId: user.id, csrf: randomBytes(24).toString('base64url'),
      createdAt: now, lastSeenAt: now, expiresAt: now + this.options.maxAgeMs,
    };
    await this.store.createSession(row);
    return { secret, row };
  }

  /** The principal of a live session, or null (unknown, ended, or its user is gone). */
  async principal(secret: string, now = Date.now()): Promise<SessionPrincipal | null> {
    if (!secret || secret.length > 100) return null;
    const hash = hashSessionSecret(secret);
    const row = await this.store.getSession(hash);
    if (!row) return null;
    if (row.expiresAt <= now || row.lastSeenAt + this.options.idleMs <= now) {
      await this.store.deleteSession(hash);
      return null;
    }
    const user = await this.store.getUserById(row.userId);
    if (!user) return null;
    if (now - row.lastSeenAt >= TOUCH_EVERY_MS) await this.store.touchSession(hash, now);
    return { kind: 'session', user, grants: await this.store.listGrants(user.id), session: row };
  }

  async end(secret: string): Promise<void> {
    if (secret) await this.store.deleteSession(hashSessionSecret(secret));
  }
}
