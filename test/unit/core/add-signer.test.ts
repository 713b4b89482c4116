// A migrated repository's old key as a second signer (`wharf migrate-from … --keep-signer`):
// the repository's own key stays first and current; the added key retires after graceDays;
// adding it again changes nothing (apt-get trusting only the old key: test/integration/migrate-from-apt.test.ts).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { generateSigningKey } from '../../../src/core/signing.ts';
import { openTestCore, type TestCore } from '../../helpers/core.ts';

let core: TestCore;
before(async () => { core = await openTestCore('add-signer'); });
after(() => core.close());

test('an added signer signs beside the repository key until its grace ends, and adding it again changes nothing', async () => {
  const { wharf } = core;
  const repo = await wharf.createRepo({ name: 'deb', format: 'apt' });
  const own = await wharf.keys.describe(repo);
  assert.equal(own.length, 1);
  const old = await generateSigningKey({ name: 'Old repository', email: 'old@example.com' });

  const t0 = Date.now();
  assert.equal(await wharf.addSigner(repo, { armoredPrivateKey: old.armoredPrivateKey, graceDays: 10 }), true);
  const keys = await wharf.keys.describe(repo);
  assert.deepEqual(keys.map((k) => k.fingerprint), [own[0].fingerprint, old.fingerprint]);
  assert.equal(keys[0].retiresAt, null);
  const retires = Date.parse(keys[1].retiresAt!);
  assert.ok(retires >= t0 + 10 * 86_400_000 - 1000 && retires <= Date.now() + 10 * 86_400_000, keys[1].retiresAt!);

  assert.equal(await wharf.addSigner(repo, { armoredPrivateKey: old.armoredPrivateKey, graceDays: 10 }), false);
  assert.deepEqual(await wharf.keys.describe(repo), keys);
  assert.equal((await wharf.keys.signingKeys(repo)).length, 2);
  await assert.rejects(wharf.addSigner(repo, { armoredPrivateKey: 'not a key', graceDays: 10 }), /not an armored OpenPGP private key/);
  await assert.rejects(wharf.addSigner(repo, { armoredPrivateKey: old.armoredPrivateKey, graceDays: 0 }), /graceDays must be more than 0/);
});
