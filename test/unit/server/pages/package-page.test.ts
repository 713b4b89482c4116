// A package page with many versions: the table lists all of them, the newest few are shown in
// full, and an older one asked for by ?version= is shown in full too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PackageView } from '../../../../src/core/format-plugin.ts';
import type { PackageRow, Repository } from '../../../../src/core/model.ts';
import { DETAILED_VERSIONS, packageBody } from '../../../../src/server/pages/package.ts';

const repo: Repository = { id: 1, name: 'py', format: 'pypi', kind: 'proxy', publicRead: true, options: {}, createdAt: '2026-01-01T00:00:00Z' };
const pkg: PackageRow = { id: 1, repoId: 1, name: 'many', displayName: 'many', summary: '', meta: {}, createdAt: '', updatedAt: '' };
const view: PackageView = {
  summary: null, links: [], description: null,
  versions: Array.from({ length: 300 }, (_, i) => ({
    version: `1.${299 - i}`, badges: [], fields: [],
    files: [{ filename: `many-1.${299 - i}.tar.gz`, url: `f/${i}`, size: 10, sha256: 'a'.repeat(64), uploadedAt: '2026-01-01T00:00:00Z', uploadedBy: null, badges: [] }],
    install: [{ text: 'pip', code: `pip install many==1.${299 - i}` }],
  })),
};

test('many versions: every one in the table, the newest few in full, an asked-for older one too', () => {
  const page = packageBody({ pkg, repo, repoPath: '/py/', member: null, view, selected: null }).value;
  assert.equal((page.match(/<section class="version"/g) ?? []).length, DETAILED_VERSIONS);
  assert.equal((page.match(/<th scope="row"><a href=/g) ?? []).length, 300 + DETAILED_VERSIONS, 'a table row per version, a file row per shown version');
  assert.match(page, /href="#v-1\.299"/);
  assert.match(page, /href="\?version=1\.0#v-1\.0"/);
  assert.doesNotMatch(page, /pip install many==1\.0</);
  const older = packageBody({ pkg, repo, repoPath: '/py/', member: null, view, selected: '1.0' }).value;
  assert.equal((older.match(/<section class="version"/g) ?? []).length, DETAILED_VERSIONS + 1);
  assert.match(older, /pip install many==1\.0</);
  assert.ok(page.length < 200_000, `${page.length} bytes`);
});
