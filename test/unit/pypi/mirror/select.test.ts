import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWharfError } from '../../../../src/core/errors.ts';
import { requiresPythonAllows, selectFiles, type SelectSpec } from '../../../../src/formats/pypi/mirror/select.ts';
import type { Target } from '../../../../src/formats/pypi/mirror/target.ts';
import { file, names, project } from './fixtures.ts';

const linux311: Target = { python: '3.11', platform: 'linux_x86_64' };
const win38: Target = { python: '3.8', platform: 'win_amd64' };
const spec = (over: Partial<SelectSpec> = {}): SelectSpec => ({ specifier: '', prereleases: false, targets: [linux311], sdists: true, ...over });

const demo = project('Demo', [
  file('demo-1.0.tar.gz'),
  file('demo-1.0-py3-none-any.whl'),
  file('Demo-1.1.0.tar.gz'),
  file('demo-1.1-cp311-cp311-manylinux_2_17_x86_64.whl'),
  file('demo-1.1-cp311-cp311-win_amd64.whl'),
  file('demo-1.1-cp38-cp38-win_amd64.whl'),
  file('demo-2.0a1-py3-none-any.whl'),
  file('demo-2.0-py3-none-any.whl', { yanked: true }),
  file('demo-2.0.tar.gz', { yanked: true }),
  file('demo-not-a-version-x.tar.gz'),
  file('README.txt'),
]);

test('versions newest first, each with the files a target can use', () => {
  const got = selectFiles(demo, spec());
  assert.deepEqual(got.map((v) => v.version), ['1.1.0', '1.0']);
  // 1.1 and 1.1.0 are one version; the Windows wheels are not for the Linux target.
  assert.deepEqual(names(got[0].files), ['Demo-1.1.0.tar.gz', 'demo-1.1-cp311-cp311-manylinux_2_17_x86_64.whl']);
  const both = selectFiles(demo, spec({ targets: [linux311, win38], sdists: false }));
  assert.deepEqual(names(both[0].files), ['demo-1.1-cp311-cp311-manylinux_2_17_x86_64.whl', 'demo-1.1-cp38-cp38-win_amd64.whl']);
});

test('pre-releases: excluded by default, kept with prereleases or a specifier naming one, or when nothing final matches', () => {
  assert.deepEqual(selectFiles(demo, spec({ specifier: '>=1.5' })).map((v) => v.version), ['2.0a1']);
  assert.deepEqual(selectFiles(demo, spec({ specifier: '>=1.0' })).map((v) => v.version), ['1.1.0', '1.0']);
  assert.deepEqual(selectFiles(demo, spec({ prereleases: true })).map((v) => v.version), ['2.0a1', '1.1.0', '1.0']);
  assert.deepEqual(selectFiles(demo, spec({ specifier: '>=1.1rc1' })).map((v) => v.version), ['2.0a1', '1.1.0']);
});

test('latest N keeps the newest matching versions', () => {
  assert.deepEqual(selectFiles(demo, spec({ latest: 1 })).map((v) => v.version), ['1.1.0']);
  assert.deepEqual(selectFiles(demo, spec({ latest: 5, specifier: '<1.1' })).map((v) => v.version), ['1.0']);
  assert.throws(() => selectFiles(demo, spec({ latest: 0 })), (e) => isWharfError(e) && /latest/.test(e.message));
});

test('yanked files count only when pinned with == or ===, or when asked for (PEP 592)', () => {
  assert.deepEqual(selectFiles(demo, spec({ specifier: '>1.1' })).map((v) => v.version), ['2.0a1']);
  const pinned = selectFiles(demo, spec({ specifier: '==2.0' }));
  assert.deepEqual(pinned.map((v) => v.version), ['2.0']);
  assert.deepEqual(names(pinned[0].files), ['demo-2.0-py3-none-any.whl', 'demo-2.0.tar.gz']);
  assert.deepEqual(selectFiles(demo, spec({ specifier: '===2.0' })).map((v) => v.version), ['2.0']);
  assert.deepEqual(selectFiles(demo, spec({ yanked: true })).map((v) => v.version), ['2.0', '1.1.0', '1.0']);
});

test('requires-python is checked against each target', () => {
  const p = project('rp', [
    file('rp-1.0-py3-none-any.whl', { requiresPython: '>=3.6' }),
    file('rp-2.0-py3-none-any.whl', { requiresPython: '>=3.9' }),
    file('rp-3.0-py3-none-any.whl', { requiresPython: '>=3.12' }),
    file('rp-4.0-py3-none-any.whl', { requiresPython: 'not a specifier' }),
  ]);
  assert.deepEqual(selectFiles(p, spec({ targets: [win38] })).map((v) => v.version), ['4.0', '1.0']);
  assert.deepEqual(selectFiles(p, spec({ targets: [linux311] })).map((v) => v.version), ['4.0', '2.0', '1.0']);
  assert.deepEqual(selectFiles(p, spec({ targets: [win38, { python: '3.12', platform: 'macosx_arm64' }] })).map((v) => v.version), ['4.0', '3.0', '2.0', '1.0']);
  assert.equal(requiresPythonAllows('>=3.11.2', { python: '3.11', platform: 'win32' }), false);
  assert.equal(requiresPythonAllows('>=3.11.2', { python: '3.11.4', platform: 'win32' }), true);
  assert.equal(requiresPythonAllows('!=3.11.*', linux311), false);
});

test('sdists only when asked for; an invalid specifier is a bad request', () => {
  assert.deepEqual(selectFiles(demo, spec({ sdists: false, specifier: '==1.0' })).map((v) => names(v.files)), [['demo-1.0-py3-none-any.whl']]);
  const sdistOnly = project('s', [file('s-1.0.tar.gz')]);
  assert.deepEqual(selectFiles(sdistOnly, spec({ sdists: false })), []);
  assert.throws(() => selectFiles(demo, spec({ specifier: '>=>1' })), (e) => isWharfError(e) && e.code === 'BAD_REQUEST');
});
