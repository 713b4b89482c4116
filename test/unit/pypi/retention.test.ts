import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WharfError } from '../../../src/core/errors.ts';
import { normalizeRetentionOption, parseRetentionArgs, type RetentionPolicy } from '../../../src/core/retention.ts';
import { parsePypiExceptions, selectPypiVersions, type RetainedVersion } from '../../../src/formats/pypi/retention.ts';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const daysAgo = (d: number) => new Date(NOW - d * 86_400_000).toISOString();
const v = (version: string, age = 100, yanked = false): RetainedVersion => ({ version, uploadedAt: daysAgo(age), yanked });
const policy = (p: Partial<RetentionPolicy>): RetentionPolicy => ({ except: [], ...p });
const none = parsePypiExceptions([]);
const gone = (vs: RetainedVersion[], p: Partial<RetentionPolicy>, ex = none, project = 'demo') =>
  selectPypiVersions(project, vs, policy(p), ex, NOW).map((x) => x.version);

test('keepVersions keeps the N newest by PEP 440 order, not by upload order or string order', () => {
  // Uploaded out of order; "1.10" sorts after "1.9" in PEP 440, before it as a string.
  const vs = [v('1.10'), v('1.9'), v('1.2'), v('2.0'), v('1.0')];
  assert.deepEqual(gone(vs, { keepVersions: 2 }), ['1.9', '1.2', '1.0']);
  assert.deepEqual(gone(vs, { keepVersions: 5 }), []);
  assert.deepEqual(gone(vs, { keepVersions: 9 }), []);
});

test('pre-releases, dev, post and local versions take their PEP 440 places', () => {
  const vs = [v('1.0'), v('1.0rc1'), v('1.0.dev1'), v('1.0.post1'), v('1.0+local.1'), v('1.0a1'), v('0.9')];
  // Newest first: 1.0.post1 > 1.0+local.1 > 1.0 > 1.0rc1 > 1.0a1 > 1.0.dev1 > 0.9
  assert.deepEqual(gone(vs, { keepVersions: 3 }), ['1.0rc1', '1.0a1', '1.0.dev1', '0.9']);
  // A pre-release newer than every final counts like any version.
  assert.deepEqual(gone([v('2.0b1'), v('1.0'), v('0.5')], { keepVersions: 2 }), ['0.5']);
  // Epochs outrank release numbers.
  assert.deepEqual(gone([v('1!0.1'), v('9.0'), v('8.0')], { keepVersions: 1 }), ['9.0', '8.0']);
});

test('yanked versions do not count, but one within the kept window stays', () => {
  const vs = [v('3.0', 100, true), v('2.0'), v('1.5', 100, true), v('1.0'), v('0.9'), v('0.8', 100, true)];
  // keep 2 installable: 2.0 and 1.0; 3.0 and 1.5 lie inside the window; 0.9 and 0.8 go.
  assert.deepEqual(gone(vs, { keepVersions: 2 }), ['0.9', '0.8']);
  // All yanked: nothing reaches the count, everything stays.
  assert.deepEqual(gone([v('2.0', 100, true), v('1.0', 100, true)], { keepVersions: 1 }), []);
});

test('keepDays keeps young versions and always the newest; with keepVersions a version goes only when both let it go', () => {
  const vs = [v('4.0', 200), v('3.0', 1), v('2.0', 40), v('1.0', 2)];
  // Newest (4.0) stays though old; 3.0 and 1.0 are young.
  assert.deepEqual(gone(vs, { keepDays: 30 }), ['2.0']);
  assert.deepEqual(gone(vs, { keepDays: 0 }), ['3.0', '2.0', '1.0']);
  assert.deepEqual(gone(vs, { keepVersions: 1, keepDays: 30 }), ['2.0']);
  assert.deepEqual(gone(vs, { keepVersions: 3, keepDays: 30 }), []);
});

test('exceptions: a whole project, or one pinned version (normalized), which stays and does not count', () => {
  const vs = [v('1.0'), v('1.1'), v('1.2'), v('1.3')];
  assert.deepEqual(gone(vs, { keepVersions: 1 }, parsePypiExceptions(['Demo'])), []);
  assert.deepEqual(gone(vs, { keepVersions: 1 }, parsePypiExceptions(['other'])), ['1.2', '1.1', '1.0']);
  assert.deepEqual(gone(vs, { keepVersions: 1 }, parsePypiExceptions(['demo==1.1'])), ['1.2', '1.0']);
  // PEP 440 equality: 1.1.0 is 1.1; a local version is another version.
  assert.deepEqual(gone(vs, { keepVersions: 1 }, parsePypiExceptions(['demo==1.1.0', 'demo==1.0'])), ['1.2']);
  assert.deepEqual(gone([v('1.0+cpu'), v('2.0')], { keepVersions: 1 }, parsePypiExceptions(['demo==1.0'])), ['1.0+cpu']);
  assert.deepEqual(gone(vs, { keepVersions: 2 }, parsePypiExceptions(['DEMO == 1.3'])), ['1.0']);
  assert.deepEqual(gone([v('1.0RC1'), v('2.0')], { keepVersions: 1 }, parsePypiExceptions(['demo==1.0rc1'])), []);
});

test('bad exceptions and policies are refused with a 400', () => {
  for (const bad of ['', 'demo==not a version', 'bad name!', 'a==1==2']) {
    assert.throws(() => parsePypiExceptions([bad]), (e: unknown) => e instanceof WharfError && e.code === 'BAD_REQUEST', bad);
  }
  const refused = (args: Record<string, unknown>) => assert.throws(() => parseRetentionArgs(args, { keepDays: true, except: true }), (e: unknown) => e instanceof WharfError && e.code === 'BAD_REQUEST', JSON.stringify(args));
  refused({});
  refused({ keepVersions: 0 });
  refused({ keepVersions: 1.5 });
  refused({ keepVersions: 'two' });
  refused({ keepDays: -1 });
  refused({ keepDays: 'soon' });
  refused({ keep: 2, keepVersions: 3 });
  refused({ keepVersions: 1, except: [3] });
  assert.deepEqual(parseRetentionArgs({ keep: '2' }, { keepDays: true, except: true }), { keepVersions: 2, except: [] });
  assert.throws(() => parseRetentionArgs({ keepVersions: 1, keepDays: 3 }, { keepDays: false, except: false }), /keepDays is not supported/);
  assert.throws(() => normalizeRetentionOption({ keepVersions: 1, every: 3 }, { keepDays: true, except: true }), /unknown retention field/);
  assert.throws(() => normalizeRetentionOption({ keepVersions: 1, everyMinutes: 0 }, { keepDays: true, except: true }), /everyMinutes/);
  assert.throws(() => normalizeRetentionOption([], { keepDays: true, except: true }), /must be an object/);
  assert.deepEqual(normalizeRetentionOption({ keepDays: 7 }, { keepDays: true, except: true }), { keepDays: 7, everyMinutes: 1440 });
});
