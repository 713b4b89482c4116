// Browser sessions over a real (in-memory) database: only the hash is stored, and a session
// ends when idle, when old, at sign-out, on a password change and with its user.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashSessionSecret, Sessions } from '../../../src/core/auth/sessions.ts';
import { openDatabase } from '../../../src/db/database.ts';
import { Store } from '../../../src/db/store.ts';

async function setup() {
  const store = new Store(await openDatabase(':memory:'));
  const sessions = new Sessions(store);
  sessions.options = { idleMs: 1000, maxAgeMs: 10_000 };
  const user = await store.createUser('alice', 'hash', false);
  return { store, sessions, user };
}

describe('sessions', () => {
  it('keeps only the hash of the secret, and finds the session by the secret', async () => {
    const { store, sessions, user } = await setup();
    const { secret, row } = await sessions.create(user, 0);
    assert.equal(row.secretHash, hashSessionSecret(secret));
    assert.equal(await store.getSession(secret), undefined);
    const p = (await sessions.principal(secret, 500))!;
    assert.equal(p.kind, 'session');
    assert.equal(p.user.name, 'alice');
    assert.match(p.session.csrf, /^[A-Za-z0-9_-]{32}$/);
    assert.equal(await sessions.principal('not-the-secret', 500), null);
    assert.equal(await sessions.principal('', 500), null);
  });

  it('ends after the idle time, counted from the last use written', async () => {
    const { sessions, user } = await setup();
    const { secret } = await sessions.create(user, 0);
    assert.ok(await sessions.principal(secret, 999));
    // Last use is written at most once a minute: a use at 999 ms did not move it.
    assert.equal(await sessions.principal(secret, 1000), null);
    assert.equal(await sessions.principal(secret, 0), null, 'and it is gone');
  });

  it('ends at its absolute expiry however busy', async () => {
    const { store, sessions, user } = await setup();
    sessions.options = { idleMs: 100_000, maxAgeMs: 150_000 };
    const { secret } = await sessions.create(user, 0);
    for (let t = 60_000; t < 150_000; t += 60_000) assert.ok(await sessions.principal(secret, t), `at ${t}`);
    assert.equal((await store.getSession(hashSessionSecret(secret)))!.lastSeenAt, 120_000);
    assert.equal(await sessions.principal(secret, 150_000), null);
  });

  it('ends at sign-out, on a password change, and with the user', async () => {
    const { store, sessions, user } = await setup();
    const a = (await sessions.create(user, 0)).secret;
    const b = (await sessions.create(user, 0)).secret;
    const c = (await sessions.create(user, 0)).secret;
    await sessions.end(a);
    assert.equal(await sessions.principal(a, 1), null);
    assert.ok(await sessions.principal(b, 1));
    await store.setUserPassword(user.id, 'new-hash');
    assert.equal(await sessions.principal(b, 1), null);
    assert.equal(await sessions.principal(c, 1), null);
    const d = (await sessions.create(user, 0)).secret;
    await store.deleteUser(user.id);
    assert.equal(await store.getSession(hashSessionSecret(d)), undefined);
  });

  it('drops ended sessions of anyone when someone signs in', async () => {
    const { store, sessions, user } = await setup();
    const old = (await sessions.create(user, 0)).secret;
    await sessions.create(user, 5000);
    assert.equal(await store.getSession(hashSessionSecret(old)), undefined);
    assert.equal(await store.countSessionsOfUser(user.id), 1);
  });
});
