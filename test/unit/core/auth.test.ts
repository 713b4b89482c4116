import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAuthorization } from '../../../src/core/auth/authenticator.ts';
import { generatePassword, hashPassword, verifyPassword } from '../../../src/core/auth/passwords.ts';
import { isValidRepoPattern, matchesRepoPattern } from '../../../src/core/auth/patterns.ts';
import { ANONYMOUS, can, isServerAdmin, permissionOn, type Principal } from '../../../src/core/auth/principal.ts';
import { LoginThrottle, throttleAddress } from '../../../src/core/auth/throttle.ts';
import { generateToken, hashToken, looksLikeToken } from '../../../src/core/auth/tokens.ts';
import type { TokenRow, User } from '../../../src/core/model.ts';

const user = (isAdmin: boolean): User => ({ id: 1, name: 'u', passwordHash: '', isAdmin, createdAt: '' });
const token = (repos: string[], permission: TokenRow['permission']): TokenRow => ({
  id: 't', userId: 1, name: 't', secretHash: '', repos, permission, expiresAt: null, createdAt: '', lastUsedAt: null,
});
const pub = { name: 'pub', publicRead: true };
const priv = { name: 'team-a', publicRead: false };

describe('passwords', () => {
  it('hash with scrypt and verify in constant time', async () => {
    const h = await hashPassword('correct horse');
    assert.match(h, /^scrypt\$16384\$8\$1\$/);
    assert.equal(await verifyPassword('correct horse', h), true);
    assert.equal(await verifyPassword('correct horsf', h), false);
    assert.equal(await verifyPassword('x', 'not-a-hash'), false);
    assert.notEqual(await hashPassword('same'), await hashPassword('same'), 'salted');
    assert.equal(generatePassword().length, 24);
  });
});

describe('tokens', () => {
  it('are long, prefixed, and stored as a hash', () => {
    const { id, token: t } = generateToken();
    assert.ok(t.startsWith(`wharf_${id}_`));
    assert.equal(looksLikeToken(t), true);
    assert.equal(looksLikeToken('hunter2'), false);
    assert.equal(hashToken(t).length, 64);
    assert.notEqual(generateToken().token, t);
  });
});

describe('repository patterns', () => {
  it('match names and globs only', () => {
    assert.equal(matchesRepoPattern('*', 'x'), true);
    assert.equal(matchesRepoPattern('team-*', 'team-a'), true);
    assert.equal(matchesRepoPattern('team-*', 'other'), false);
    assert.equal(matchesRepoPattern('a.b', 'axb'), false, 'dots are literal');
    assert.equal(isValidRepoPattern('team-*'), true);
    assert.equal(isValidRepoPattern('../x'), false);
  });
});

describe('permissions', () => {
  it('anonymous reads public repositories only', () => {
    assert.equal(permissionOn(ANONYMOUS, pub), 'read');
    assert.equal(permissionOn(ANONYMOUS, priv), null);
  });
  it('users get grants by pattern, admins everything', () => {
    const p: Principal = { kind: 'user', user: user(false), grants: [{ userId: 1, repoPattern: 'team-*', permission: 'write' }] };
    assert.equal(permissionOn(p, priv), 'write');
    assert.equal(permissionOn(p, pub), 'read');
    assert.equal(can(p, { name: 'other', publicRead: false }, 'read'), false);
    const admin: Principal = { kind: 'user', user: user(true), grants: [] };
    assert.equal(permissionOn(admin, priv), 'admin');
    assert.equal(isServerAdmin(admin), true);
    assert.equal(isServerAdmin(p), false);
  });
  it('tokens never exceed their scope, their permission or their owner', () => {
    const admin = user(true);
    const scoped: Principal = { kind: 'token', user: admin, grants: [], token: token(['team-*'], 'read') };
    assert.equal(permissionOn(scoped, priv), 'read');
    assert.equal(permissionOn(scoped, { name: 'secret', publicRead: false }), null);
    assert.equal(permissionOn(scoped, pub), 'read', 'public repositories stay readable');
    assert.equal(isServerAdmin(scoped), false);
    const plain: Principal = { kind: 'token', user: user(false), grants: [], token: token(['*'], 'admin') };
    assert.equal(permissionOn(plain, priv), null, 'a token does not grant what its owner lacks');
    const full: Principal = { kind: 'token', user: admin, grants: [], token: token(['*'], 'admin') };
    assert.equal(isServerAdmin(full), true);
  });
});

describe('parseAuthorization', () => {
  it('reads Basic and Bearer', () => {
    const b = Buffer.from('user:pa:ss').toString('base64');
    assert.deepEqual(parseAuthorization(`Basic ${b}`), { scheme: 'basic', username: 'user', secret: 'pa:ss' });
    assert.deepEqual(parseAuthorization('Bearer abc'), { scheme: 'bearer', secret: 'abc' });
    assert.equal(parseAuthorization('Digest x'), null);
    assert.equal(parseAuthorization(`Basic ${Buffer.from('nocolon').toString('base64')}`), null);
    assert.equal(parseAuthorization(undefined), null);
  });
});

describe('LoginThrottle', () => {
  const ip = (key: string, limit = 3) => [{ key, limit }];
  it('blocks after the limit within the window and forgets after it', () => {
    const t = new LoginThrottle({ windowMs: 1000 });
    for (let i = 0; i < 3; i++) t.fail(['ip:a'], 0);
    assert.equal(t.retryAfter(ip('ip:a'), 10), 1);
    assert.equal(t.retryAfter(ip('ip:a', 4), 10), 0, 'each check has its own limit');
    assert.equal(t.retryAfter(ip('ip:b'), 10), 0);
    assert.equal(t.retryAfter(ip('ip:a'), 1001), 0);
    t.fail(['ip:c'], 0);
    t.succeed(['ip:c']);
    assert.equal(t.retryAfter(ip('ip:c'), 1), 0);
  });
  it('stays bounded under a spray of names and keeps the keys that keep failing', () => {
    const t = new LoginThrottle({ windowMs: 60_000, maxKeys: 1000 });
    for (let i = 0; i < 3; i++) t.fail(['addr:attacker'], 0);
    for (let i = 0; i < 50_000; i++) {
      t.fail([`name:${i}`, 'addr:attacker'], 1);
      assert.ok(t.size <= 1000);
    }
    assert.equal(t.size, 1000);
    assert.ok(t.retryAfter(ip('addr:attacker'), 2) > 0, 'the spraying address is still throttled');
  });
});

describe('throttleAddress', () => {
  it('counts IPv4 addresses alone and IPv6 clients by their /64', () => {
    assert.equal(throttleAddress('203.0.113.7'), '203.0.113.7');
    assert.equal(throttleAddress('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(throttleAddress('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
    assert.equal(throttleAddress('2001:db8:1:2::9'), '2001:db8:1:2::/64');
    assert.equal(throttleAddress('2001:0db8::1'), '2001:db8:0:0::/64');
    assert.equal(throttleAddress('::1'), '0:0:0:0::/64');
  });
});
