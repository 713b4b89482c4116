// Retention deletes many versions or files at once; the indexes are published once for the
// whole clean, not once per deletion (a clean of 10,000 old versions published 10,000 times).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Store } from '../../../src/db/store.ts';
import { cleanFiles } from '../../../src/formats/files/retention.ts';
import { cleanPypi } from '../../../src/formats/pypi/retention.ts';
import { openTestCore, type TestCore } from '../../helpers/core.ts';
import { buildWheel, wheelFilename } from '../../helpers/python-dists.ts';
import type { Wharf } from '../../../src/core/wharf.ts';

let core: TestCore;
let wharf: Wharf;

before(async () => {
  core = await openTestCore('retention-publish');
  wharf = core.wharf;
});
after(() => core.close());

/** How often `fn` publishes, and which scopes. */
async function publishes(fn: () => Promise<unknown>): Promise<string[][]> {
  const calls: string[][] = [];
  const real = wharf.publish.bind(wharf);
  wharf.publish = (repo, scopes, opts) => {
    calls.push([...scopes]);
    return real(repo, scopes, opts);
  };
  try {
    await fn();
  } finally {
    wharf.publish = real;
  }
  return calls;
}

test('a PyPI clean publishes once, with every deleted project\'s pages', async () => {
  const repo = await wharf.createRepo({ name: 'py', format: 'pypi' });
  for (const name of ['alpha', 'beta']) {
    for (const version of ['1.0', '2.0', '3.0', '4.0']) {
      const o = { name, version };
      const staged = await wharf.blobs.stageBuffer(buildWheel(o));
      await wharf.services.ingest(repo, { uploader: 'alice', staged, filename: wheelFilename(o), fields: {} });
    }
  }
  const calls = await publishes(() => cleanPypi(wharf.contextFor(repo), { keepVersions: 1 }));
  assert.equal(calls.length, 1, `published ${calls.length} times`);
  assert.ok(calls[0].some((s) => s.includes('alpha')) && calls[0].some((s) => s.includes('beta')), JSON.stringify(calls[0]));
  const page = await wharf.getIndex(repo, 'simple/alpha/#html');
  assert.ok(page, 'the project page is published');
  const html = Buffer.from(page.body as Uint8Array).toString();
  assert.match(html, /alpha-4\.0-/);
  assert.doesNotMatch(html, /alpha-3\.0-/, 'the published page no longer lists a cleaned version');
  const pkg = await wharf.store.getPackage(repo.id, 'alpha');
  assert.deepEqual(await wharf.store.listVersionNames(pkg!.id), ['4.0']);
});

test('a files clean publishes once', async () => {
  const repo = await wharf.createRepo({ name: 'fs', format: 'files' });
  for (let i = 0; i < 6; i++) {
    const staged = await wharf.blobs.stageBuffer(Buffer.from(`file ${i}`));
    await wharf.services.ingest(repo, { uploader: 'alice', staged, filename: `f${i}.txt`, fields: { path: [`builds/${i % 2 ? 'a' : 'b'}/f${i}.txt`] } });
  }
  const calls = await publishes(() => cleanFiles(wharf.contextFor(repo), { keepVersions: 1 }));
  assert.equal(calls.length, 1, `published ${calls.length} times`);
  const left = (await wharf.store.listFilesByPrefix(repo.id, '')).map((f) => f.path).sort();
  assert.deepEqual(left, ['builds/a/f5.txt', 'builds/b/f4.txt']);
});
