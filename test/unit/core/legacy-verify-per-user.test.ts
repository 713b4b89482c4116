// One user's imported (bcrypt) hash is checked at most once at a time: wrong passwords sent for
// one user from many addresses must not queue ahead of another user's first login.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyPassword } from '../../../src/core/auth/passwords.ts';
import { MAX_WAITING_PER_HASH } from '../../../src/core/auth/legacy-verifier.ts';
import { WharfError } from '../../../src/core/errors.ts';

// htpasswd -nbB -C 10 a right; htpasswd -nbB -C 10 b other
const ATTACKED = '$2y$10$aOi1u9g1Y1H7gfIhCcJ2/O.lvuEhG7Ez94mvVL8A4zJ4L8V0JWi6y';
const OTHER = '$2y$10$lfYtcYmgHsCNKhyj9LxnKONJmupf.Io8Dk574UO9P39dXaDinTGQK';

test("another user's check is not queued behind one user's burst of wrong passwords", async () => {
  const order: string[] = [];
  const burst = Array.from({ length: 6 }, (_, i) =>
    verifyPassword(`wrong-${i}`, ATTACKED).then((ok) => {
      assert.equal(ok, false);
      order.push(`attacked-${i}`);
    }),
  );
  const other = verifyPassword('other', OTHER).then((ok) => {
    assert.equal(ok, true);
    order.push('other');
  });
  await Promise.all([...burst, other]);
  // The first wrong password is already in the worker; the other user's check goes next.
  assert.ok(order.indexOf('other') <= 1, `the other user's check finished at position ${order.indexOf('other')}: ${order.join(', ')}`);
});

test('the same password sent at once shares one check; too many different ones waiting are refused with 429', async () => {
  const same = await Promise.all(Array.from({ length: 4 }, () => verifyPassword('right', ATTACKED)));
  assert.deepEqual(same, [true, true, true, true]);

  const results = await Promise.allSettled(Array.from({ length: MAX_WAITING_PER_HASH + 3 }, (_, i) => verifyPassword(`guess-${i}`, ATTACKED)));
  const refused = results.filter((r) => r.status === 'rejected');
  assert.equal(refused.length, 3);
  for (const r of refused) {
    const err = (r as PromiseRejectedResult).reason;
    assert.ok(err instanceof WharfError && err.status === 429, String(err));
    assert.ok(Number(err.headers['retry-after']) > 0);
  }
  assert.ok(results.slice(0, MAX_WAITING_PER_HASH).every((r) => r.status === 'fulfilled' && r.value === false));
  // Once the burst is over the user can log in again.
  assert.equal(await verifyPassword('right', ATTACKED), true);
});
