import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RetentionPolicy } from '../../../src/core/retention.ts';
import { globMatcher, selectFiles, type RetainedFile } from '../../../src/formats/files/retention.ts';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const f = (path: string, daysAgo: number): RetainedFile => ({ path, createdAt: new Date(NOW - daysAgo * 86_400_000).toISOString() });
const gone = (files: RetainedFile[], p: Partial<RetentionPolicy>) => selectFiles(files, { except: [], ...p }, NOW).map((x) => x.path);

const tree = [
  f('app/app-1.0.tgz', 50), f('app/app-1.1.tgz', 40), f('app/app-1.2.tgz', 3), f('app/app-1.3.tgz', 1),
  f('lib/lib-0.1.tgz', 60), f('lib/lib-0.2.tgz', 45),
  f('app/old/app-0.1.tgz', 400),
  f('README', 500),
];

test('keepVersions keeps the newest N files of each directory, by upload time; subdirectories are their own unit', () => {
  assert.deepEqual(gone(tree, { keepVersions: 2 }), ['app/app-1.0.tgz', 'app/app-1.1.tgz']);
  assert.deepEqual(gone(tree, { keepVersions: 1 }), ['app/app-1.0.tgz', 'app/app-1.1.tgz', 'app/app-1.2.tgz', 'lib/lib-0.1.tgz']);
});

test('keepDays keeps young files and the newest of each directory; both limits must let a file go', () => {
  assert.deepEqual(gone(tree, { keepDays: 30 }), ['app/app-1.0.tgz', 'app/app-1.1.tgz', 'lib/lib-0.1.tgz']);
  assert.deepEqual(gone(tree, { keepDays: 42 }), ['app/app-1.0.tgz', 'lib/lib-0.1.tgz']);
  assert.deepEqual(gone(tree, { keepDays: 30, keepVersions: 3 }), ['app/app-1.0.tgz']);
});

test('except globs: matching files stay and do not count', () => {
  assert.deepEqual(gone(tree, { keepVersions: 1, except: ['app/app-1.0.tgz'] }), ['app/app-1.1.tgz', 'app/app-1.2.tgz', 'lib/lib-0.1.tgz']);
  assert.deepEqual(gone(tree, { keepVersions: 1, except: ['lib/**'] }), ['app/app-1.0.tgz', 'app/app-1.1.tgz', 'app/app-1.2.tgz']);
  assert.deepEqual(gone(tree, { keepVersions: 1, except: ['**/*.tgz'] }), []);
  // The newest excepted file does not count: the newest other file is kept as well.
  assert.deepEqual(gone(tree, { keepVersions: 1, except: ['app/*-1.3.tgz'] }), ['app/app-1.0.tgz', 'app/app-1.1.tgz', 'lib/lib-0.1.tgz']);
});

test('globMatcher: * and ? stay in a segment, ** crosses them', () => {
  const m = (g: string, p: string) => globMatcher(g)(p);
  assert.equal(m('app/*.tgz', 'app/a.tgz'), true);
  assert.equal(m('app/*.tgz', 'app/x/a.tgz'), false);
  assert.equal(m('app/**', 'app/x/a.tgz'), true);
  assert.equal(m('**/*.sig', 'a.sig'), true);
  assert.equal(m('**/*.sig', 'a/b/c.sig'), true);
  assert.equal(m('a?c', 'abc'), true);
  assert.equal(m('a?c', 'a/c'), false);
  assert.equal(m('a.c', 'abc'), false);
  assert.equal(m('(x)+[y]', '(x)+[y]'), true);
});
