// Creating the same user many times at once: exactly one is created, every other answer is
// 409 (the check and the insert are one transaction; before, the password hashing between
// them let several pass the check, and all but one failed on the unique name with a 500).
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.close());

it('answers 201 once and 409 to the rest when one user is created ten times at once', async () => {
  const statuses = await Promise.all(Array.from({ length: 10 }, () => fetch(`${server.url}/-/api/v1/users`, {
    method: 'POST', headers: { authorization: server.adminAuth, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'twin', password: 'twin-password-1' }),
  }).then((r) => r.status)));
  const counts: Record<number, number> = {};
  for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
  assert.deepEqual(counts, { 201: 1, 409: 9 });
  assert.equal((await server.wharf.store.listUsers()).filter((u) => u.name === 'twin').length, 1);
});
