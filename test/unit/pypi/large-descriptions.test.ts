// Long descriptions are read once, for the version shown: a package page, the JSON API, a
// project's publish and an upload's "is this the newest version?" no longer parse every version's description.
// Before, 60 versions with 3 MB descriptions made each package page view parse ~540 MB of
// JSON (seconds); the bound below (CPU time of this process) is loose on purpose, the old
// code missed it by far.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RepoContext } from '../../../src/core/format-plugin.ts';
import { openDatabase } from '../../../src/db/database.ts';
import { Store } from '../../../src/db/store.ts';
import { pypiPackageView } from '../../../src/formats/pypi/package-view.ts';
import { buildProjectDocuments, jsonApiInput } from '../../../src/formats/pypi/pages.ts';
import { renderProjectJsonApi } from '../../../src/formats/pypi/json-api.ts';
import { parseCoreMetadata } from '../../../src/formats/pypi/core-metadata.ts';
import { cpuMs } from '../../helpers/cpu-time.ts';
import { coreMetadataText } from '../../helpers/python-dists.ts';

test('a package with many versions and megabyte descriptions renders from one description', async () => {
  const store = new Store(await openDatabase(':memory:'));
  const repo = await store.createRepo({ name: 'py', format: 'pypi', kind: 'hosted', publicRead: true, options: {} });
  const sha = 'b'.repeat(64);
  await store.insertBlob(sha, 1);
  const pkg = await store.upsertPackage(repo.id, 'big', 'big');
  const VERSIONS = 60;
  await store.transaction(async () => {
    for (let i = 0; i < VERSIONS; i++) {
      const { fields: _fields, ...meta } = parseCoreMetadata(coreMetadataText({ name: 'big', version: `1.${i}`, summary: 's' }));
      const v = await store.upsertVersion(pkg, `1.${i}`, { ...meta, description: `v${i} `.repeat(750_000), descriptionContentType: 'text/plain' });
      for (const kind of ['whl', 'tar.gz']) {
        await store.insertFile({ repoId: repo.id, versionId: v, path: `packages/big/big-1.${i}.${kind}`, filename: `big-1.${i}.${kind}`, sha256: sha, size: 1, meta: { kind: 'dist', packagetype: kind === 'whl' ? 'bdist_wheel' : 'sdist', yanked: false } });
      }
    }
  });
  const ctx = { repo, store } as unknown as RepoContext;
  const site = { server: 'http://h/', url: 'http://h/py/', filesUrl: 'http://h/py/', name: 'py', private: false };
  const t0 = cpuMs();
  const view = await pypiPackageView(ctx, (await store.getPackageById(pkg))!, site);
  const doc = renderProjectJsonApi(await jsonApiInput(ctx, pkg, 'big')) as { info: { version: string; description: string } };
  const newest = await store.listVersionNames(pkg);
  // Publishing the project (simple pages and JSON API) reads one description too.
  const docs = await buildProjectDocuments(ctx, 'big');
  const ms = cpuMs() - t0;
  assert.equal(docs.length, 3);
  assert.equal(view.versions.length, VERSIONS);
  assert.equal(view.versions[0].version, `1.${VERSIONS - 1}`);
  assert.ok(view.description!.text.startsWith(`v${VERSIONS - 1} `), 'the newest version\'s description');
  assert.equal(doc.info.version, `1.${VERSIONS - 1}`);
  assert.ok(doc.info.description.startsWith(`v${VERSIONS - 1} `));
  assert.equal(newest.length, VERSIONS);
  // The selected version is given to jsonApiInput, which reads only that version's description.
  const selected = renderProjectJsonApi(await jsonApiInput(ctx, pkg, 'big', undefined, '1.3')) as
 { info: { description: string } };
  assert.ok(selected.info.description.startsWith('v3 '), 'a selected version gets its own description');
  assert.ok(ms < 1500, `${ms.toFixed(0)} ms`);
});
