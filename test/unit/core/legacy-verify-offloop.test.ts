// A legacy (imported) hash check must not hold the event loop: bcrypt at cost 12 takes
// hundreds of ms of CPU, and an unauthenticated wrong password would freeze the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyPassword } from '../../../src/core/auth/passwords.ts';

test('a cost-12 bcrypt check with a wrong password leaves the event loop responsive', async () => {
  // htpasswd -nbB -C 12 u right
  const hash = '$2y$12$2xEDAJtnWN7xJRdSsoCrIODs4YpU/czsN9MMKIhklZnM7vgOPeOxy';
  let maxGap = 0;
  let last = performance.now();
  let running = true;
  const tick = (): void => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    if (running) setTimeout(tick, 5);
  };
  setTimeout(tick, 5);
  const t0 = performance.now();
  const ok = await verifyPassword('wrong', hash);
  const took = performance.now() - t0;
  // Let the timer run once more: a blocked loop shows up as the gap before this tick.
  await new Promise((resolve) => setTimeout(resolve, 20));
  running = false;
  assert.equal(ok, false);
  assert.equal(await verifyPassword('right', hash), true);
  // The check itself takes far longer than the bound; the timer must keep firing meanwhile.
  assert.ok(maxGap < Math.max(150, took / 3), `event loop blocked ${maxGap.toFixed(0)} ms during a ${took.toFixed(0)} ms check`);
});
