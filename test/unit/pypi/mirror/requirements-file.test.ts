import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWharfError } from '../../../../src/core/errors.ts';
import { parseRequirementsFile } from '../../../../src/formats/pypi/mirror/requirements-file.ts';

const FILE = [
  '# a full-line comment',
  '--index-url https://pypi.example/simple',
  '--extra-index-url=https://other.example/simple',
  '-f ./wheels',
  '--pre',
  '--only-binary :all:',
  '-r base.txt',
  '--constraint=constraints.txt',
  '-c more.txt',
  '-e git+https://github.com/me/proj.git#egg=proj',
  '',
  'requests[socks]>=2.28 \\',
  '    --hash=sha256:aaaa \\',
  '    --hash=sha256:bbbb',
  'numpy==1.26.4 ; python_version >= "3.9"  # pinned for the build',
  'urllib3 \\',
  '  <3',
  'django>=4 \\',
  '# a comment ends a continuation',
  './local/project',
  'https://example.org/pkg-1.0-py3-none-any.whl',
  'dist/thing-1.0.tar.gz',
  'pip @ https://github.com/pypa/pip/archive/22.0.2.zip',
  'six --global-option=x',
  '   ',
].join('\n');

test('requirements, continuations, comments and hashes', () => {
  const r = parseRequirementsFile(FILE);
  const reqs = r.requirements.map((q) => [q.normalizedName, q.specifier, q.extras.join(','), q.marker !== null]);
  assert.deepEqual(reqs, [
    ['requests', '>=2.28', 'socks', false],
    ['numpy', '==1.26.4', '', true],
    ['urllib3', '<3', '', false],
    ['django', '>=4', '', false],
    ['six', '', '', false],
  ]);
  assert.equal(r.pre, true);
});

test('option lines, nested files, editables, paths and URLs are reported with reasons', () => {
  const r = parseRequirementsFile(FILE);
  const byLine = new Map(r.ignored.map((i) => [i.line, i]));
  assert.match(byLine.get(2)!.reason, /index option/);
  assert.match(byLine.get(3)!.reason, /index option/);
  assert.match(byLine.get(4)!.reason, /find-links/);
  assert.match(byLine.get(5)!.reason, /pre-releases/);
  assert.match(byLine.get(6)!.reason, /binary policy/);
  assert.match(byLine.get(7)!.reason, /nested requirements file/);
  assert.match(byLine.get(8)!.reason, /constraints file/);
  assert.match(byLine.get(10)!.reason, /editable/);
  assert.match(byLine.get(20)!.reason, /local path/);
  assert.match(byLine.get(21)!.reason, /URL requirement/);
  assert.match(byLine.get(22)!.reason, /local path/);
  assert.match(byLine.get(23)!.reason, /direct URL reference/);
  assert.match(byLine.get(24)!.reason, /per-requirement options ignored: --global-option=x/);
  // The requests line's hashes are silently dropped; no ignored entry for line 12.
  assert.equal(byLine.has(12), false);
  assert.deepEqual(r.nested, [
    { kind: 'requirements', path: 'base.txt', line: 7 },
    { kind: 'constraints', path: 'constraints.txt', line: 8 },
    { kind: 'constraints', path: 'more.txt', line: 9 },
  ]);
});

test('an invalid requirement names its line', () => {
  assert.throws(() => parseRequirementsFile('ok\n\nbad name here\n'), (e) => isWharfError(e) && e.code === 'BAD_REQUEST' && /line 3/.test(e.message));
  // `#` not after whitespace is not a comment (as in pip), so this is no requirement.
  assert.throws(() => parseRequirementsFile('attrs#note'), (e) => isWharfError(e) && /line 1/.test(e.message));
  // `${VAR}` is not expanded: the line is reported instead.
  const env = parseRequirementsFile('pkg>=${VERSION}\nother');
  assert.deepEqual(env.requirements.map((r) => r.name), ['other']);
  assert.deepEqual(env.ignored, [{ line: 1, text: 'pkg>=${VERSION}', reason: 'uses environment variable ${VERSION}, which is not expanded here' }]);
});
