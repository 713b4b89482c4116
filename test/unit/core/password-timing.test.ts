// A sign-in attempt costs the same whatever the account: an unknown user, a user without a
// password yet (migrated, docs/migrate.md) and a wrong password all derive a key, so response
// times do not tell an attacker which accounts exist or which have no password.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashPassword, NO_PASSWORD, verifyPassword } from '../../../src/core/auth/passwords.ts';

async function medianMs(fn: () => Promise<unknown>, runs = 5): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

test('checking a password against a user without one takes as long as a real check, and fails', async () => {
  const real = await hashPassword('correct horse');
  assert.equal(await verifyPassword('wrong', real), false);
  assert.equal(await verifyPassword('', NO_PASSWORD), false);
  assert.equal(await verifyPassword('!', NO_PASSWORD), false);
  assert.equal(await verifyPassword('x', 'not a hash at all'), false);
  const wrong = await medianMs(() => verifyPassword('wrong', real));
  const none = await medianMs(() => verifyPassword('wrong', NO_PASSWORD));
  const garbage = await medianMs(() => verifyPassword('wrong', 'not a hash at all'));
  // A real check derives a 16 MiB scrypt key (tens of ms); answering at once is ~0.01 ms.
  // Generous bounds: the machine may be busy.
  assert.ok(none > wrong * 0.3, `no password: ${none.toFixed(2)} ms, a real check ${wrong.toFixed(2)} ms`);
  assert.ok(garbage > wrong * 0.3, `unparsable hash: ${garbage.toFixed(2)} ms, a real check ${wrong.toFixed(2)} ms`);
});
