// Changes to users, grants and tokens, each with its audit entry in one transaction: the API
// and the pages both go through here, so neither can change an account without a record.
// Passwords arrive hashed (hashing takes a while and must not hold the write transaction).
import type { Store } from '../../db/store.ts';
import { recordAudit } from '../audit.ts';
import type { Permission, TokenRow, User } from '../model.ts';

/** A token as the trail names it: never its secret. */
const tokenDetail = (t: TokenRow) => ({ tokenId: t.id, name: t.name, repos: t.repos, permission: t.permission, expiresAt: t.expiresAt });

export function createUser(store: Store, name: string, passwordHash: string, admin: boolean): Promise<User | null> {
  return store.transaction(async () => {
    const user = await store.createUserIfAbsent(name, passwordHash, admin);
    if (user) await recordAudit(store.sql, { action: 'user-create', target: name, detail: { admin } });
    return user;
  });
}

export function deleteUser(store: Store, user: User): Promise<void> {
  return store.transaction(async () => {
    await store.deleteUser(user.id);
    await recordAudit(store.sql, { action: 'user-delete', target: user.name, detail: { admin: user.isAdmin } });
  });
}

export function setPassword(store: Store, user: User, passwordHash: string): Promise<void> {
  return store.transaction(async () => {
    await store.setUserPassword(user.id, passwordHash);
    await recordAudit(store.sql, { action: 'user-password', target: user.name });
  });
}

/**
 * At a first login with an imported hash (an htpasswd's bcrypt, SHA-1, apr1): the password just
 * verified, hashed Wharf's way, replaces it, unless the hash changed meanwhile (a new password
 * set by an administrator, or another login that re-hashed first).
 */
export function rehashPassword(store: Store, user: User, from: string, passwordHash: string): Promise<boolean> {
  return store.transaction(async () => {
    const now = await store.getUserById(user.id);
    if (!now || now.passwordHash !== user.passwordHash) return false;
    await store.setUserPassword(user.id, passwordHash);
    await recordAudit(store.sql, { action: 'user-password', target: user.name, detail: { rehashed: from } });
    return true;
  });
}

export function setAdmin(store: Store, user: User, admin: boolean): Promise<void> {
  return store.transaction(async () => {
    const now = await store.getUserById(user.id);
    await store.setUserAdmin(user.id, admin);
    if (now && now.isAdmin !== admin) await recordAudit(store.sql, { action: 'user-admin', target: user.name, detail: { admin: [now.isAdmin, admin] } });
  });
}

/** Grant (or with null revoke) a permission; a pattern without `*` names one repository, whose trail it then joins. */
export function setGrant(store: Store, user: User, pattern: string, permission: Permission | null): Promise<void> {
  return store.transaction(async () => {
    const before = (await store.listGrants(user.id)).find((g) => g.repoPattern === pattern)?.permission ?? null;
    await store.setGrant(user.id, pattern, permission);
    if (before === permission) return;
    await recordAudit(store.sql, { repo: pattern.includes('*') ? null : pattern, action: 'grant', target: user.name, detail: { pattern, permission: [before, permission] } });
  });
}

export function createToken(store: Store, owner: User, t: Omit<TokenRow, 'createdAt' | 'lastUsedAt' | 'userId'>): Promise<TokenRow> {
  return store.transaction(async () => {
    const row = await store.createToken({ ...t, userId: owner.id });
    await recordAudit(store.sql, { action: 'token-create', target: owner.name, detail: tokenDetail(row) });
    return row;
  });
}

export function revokeToken(store: Store, t: TokenRow): Promise<void> {
  return store.transaction(async () => {
    const owner = await store.getUserById(t.userId);
    await store.deleteToken(t.id);
    await recordAudit(store.sql, { action: 'token-revoke', target: owner?.name ?? null, detail: tokenDetail(t) });
  });
}
