// Browser sessions over a real (in-memory) database: only the hash is stored, and a session
// ends when idle, when old, at sign-out, on a password change and with its user.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashSessionSecret, Sessions } from '../../../src/core/auth/sessions.ts';
import { openDatabase } from '../../../src/db/database.ts';
import { Store } from '../../../src/db/store.ts';

function setup() {
  const store = new Store(openDatabase(':memory:'));
  const sessions = new Sessions(store);
  sessions.options = { idleMs: 1000, maxAgeMs: 10_000 };
  const user = store.createUser('alice', 'hash', false);
  return { store, sessions, user };
}

describe('sessions', () => {
  it('keeps only the hash of the secret, and finds the session by the secret', () => {
    const { store, sessions, user } = setup();
    const { secret, row } = sessions.create(user, 0);
    assert.equal(row.secretHash, hashSessionSecret(secret));
    assert.equal(store.getSession(secret), undefined);
    const p = sessions.principal(secret, 500)!;
    assert.equal(p.kind, 'session');
    assert.equal(p.user.name, 'alice');
    assert.match(p.session.csrf, /^[A-Za-z0-9_-]{32}$/);
    assert.equal(sessions.principal('not-the-secret', 500), null);
    assert.equal(sessions.principal('', 500), null);
  });

  it('ends after the idle time, counted from the last use written', () => {
    const { sessions, user } = setup();
    const { secret } = sessions.create(user, 0);
    assert.ok(sessions.principal(secret, 999));
    // Last use is written at most once a minute: a use at 999 ms did not move it.
    assert.equal(sessions.principal(secret, 1000), null);
    assert.equal(sessions.principal(secret, 0), null, 'and it is gone');
  });

  it('ends at its absolute expiry however busy', () => {
    const { store, sessions, user } = setup();
    sessions.options = { idleMs: 100_000, maxAgeMs: 150_000 };
    const { secret } = sessions.create(user, 0);
    for (let t = 60_000; t < 150_000; t += 60_000) assert.ok(sessions.principal(secret, t), `at ${t}`);
    assert.equal(store.getSession(hashSessionSecret(secret))!.lastSeenAt, 120_000);
    assert.equal(sessions.principal(secret, 150_000), null);
  });

  it('ends at sign-out, on a password change, and with the user', () => {
    const { store, sessions, user } = setup();
    const a = sessions.create(user, 0).secret;
    const b = sessions.create(user, 0).secret;
    const c = sessions.create(user, 0).secret;
    sessions.end(a);
    assert.equal(sessions.principal(a, 1), null);
    assert.ok(sessions.principal(b, 1));
    store.setUserPassword(user.id, 'new-hash');
    assert.equal(sessions.principal(b, 1), null);
    assert.equal(sessions.principal(c, 1), null);
    const d = sessions.create(user, 0).secret;
    store.deleteUser(user.id);
    assert.equal(store.getSession(hashSessionSecret(d)), undefined);
  });

  it('drops ended sessions of anyone when someone signs in', () => {
    const { store, sessions, user } = setup();
    const old = sessions.create(user, 0).secret;
    sessions.create(user, 5000);
    assert.equal(store.getSession(hashSessionSecret(old)), undefined);
    assert.equal(store.countSessionsOfUser(user.id), 1);
  });
});
