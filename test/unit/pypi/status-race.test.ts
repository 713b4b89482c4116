// PEP 792: an upload racing a status change. The status is read when the upload is planned
// and again in the transaction that writes: a project archived between the two takes no file.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isWharfError } from '../../../src/core/errors.ts';
import type { Repository } from '../../../src/core/model.ts';
import type { Store } from '../../../src/db/store.ts';
import { openTestCore, type TestCore } from '../../helpers/core.ts';
import { buildWheel, wheelFilename } from '../../helpers/python-dists.ts';
import type { Wharf } from '../../../src/core/wharf.ts';

let core: TestCore;
let wharf: Wharf;
let store: Store;
let repo: Repository;

before(async () => {
  core = await openTestCore('status-race');
  wharf = core.wharf;
  store = wharf.store;
  repo = await wharf.createRepo({ name: 'py', format: 'pypi' });
});
after(() => core.close());

async function upload(version: string) {
  const o = { name: 'racer', version };
  const staged = await wharf.blobs.stageBuffer(buildWheel(o));
  return wharf.services.ingest(repo, { uploader: 'alice', staged, filename: wheelFilename(o), fields: {} });
}

test('a project archived after an upload was planned, before its rows are written, refuses that upload', async () => {
  await upload('1.0');
  await store.setPackageStatus(repo.id, 'racer', { status: 'archived', reason: 'frozen' });
  // The plan's read of the status happens before the archive, as when the status change
  // commits while the upload is being parsed: it sees no status (once).
  const real = store.getPackageStatus.bind(store);
  let calls = 0;
  store.getPackageStatus = async (id, name) => (calls++ === 0 ? undefined : real(id, name));
  try {
    await assert.rejects(upload('2.0'), (err: unknown) => isWharfError(err) && err.status === 409 && /archived \(frozen\)/.test(err.message));
  } finally {
    store.getPackageStatus = real;
  }
  assert.ok(calls >= 2, 'the status is read again where the rows are written');
  const pkg = await store.getPackage(repo.id, 'racer');
  assert.deepEqual(await store.listVersionNames(pkg!.id), ['1.0']);
});
