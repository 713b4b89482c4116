import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWharfError } from '../../../../src/core/errors.ts';
import {
  filterVersions, formatSpecifier, isPinned, isValidSpecifier, parseSpecifier, specifierAllowsPrereleases, specifierContains,
} from '../../../../src/formats/pypi/mirror/specifier.ts';
import { oracleAvailable, runPython, skipReason } from './oracle.ts';

const SPECS = [
  '', '==1.0', '==1.0.0', '!=1.0', '==1.*', '==1.0.*', '!=1.*', '>=1.0', '<=1.0', '>1.0', '<2.0', '<2.0rc1', '>1.0.post1',
  '~=1.4', '~=1.4.5', '~=2.2.post3', '~=1.4.5a4', '==1.0+local', '>=1.0,<2.0', '>=1.0,!=1.5.*,<3', '===1.0', '==1!2.0',
  '>=0.9a1', '<=2.0.dev1', '==2.0.*', '>1.0a1',
];
const VERSIONS = [
  '0.9', '1.0', '1.0.0', '1.0a1', '1.0.dev0', '1.0.post1', '1.0.post2', '1.0+local', '1.0+other', '1.4', '1.4.5', '1.4.6',
  '1.4.5a4', '1.4.5a5', '1.5', '1.5.2', '1.9', '2.0', '2.0a1', '2.0b1', '2.0rc1', '2.0.dev1', '2.0.post1', '2.2.post3', '2.3',
  '3.0', '1!2.0', '1!1.0',
];

test('specifier clauses agree with packaging (pre-releases allowed)', { skip: !oracleAvailable() && skipReason }, () => {
  const cases = SPECS.flatMap((s) => VERSIONS.map((v) => [s, v]));
  const expected = runPython<boolean[]>(`
import json, sys
from pip._vendor.packaging.specifiers import SpecifierSet
print(json.dumps([SpecifierSet(s).contains(v, prereleases=True) for s, v in json.load(sys.stdin)]))
`, cases);
  const mismatches = cases.filter(([s, v], i) => specifierContains(parseSpecifier(s), v, true) !== expected[i])
    .map(([s, v]) => `${v} in ${JSON.stringify(s)}`);
  assert.deepEqual(mismatches, []);
});

test('contains() without pre-releases refuses them unless the set names one', () => {
  assert.equal(specifierContains(parseSpecifier('>=1.0'), '2.0a1'), false);
  assert.equal(specifierContains(parseSpecifier('>=1.0'), '2.0a1', true), true);
  assert.equal(specifierContains(parseSpecifier('>=1.0b1'), '2.0a1'), true);
  assert.equal(specifierContains(parseSpecifier('==2.0a1'), '2.0a1'), true);
  // `<` and `>` with a pre-release bound do not name pre-releases (packaging's rule).
  assert.equal(specifierAllowsPrereleases(parseSpecifier('<2.0rc1')), false);
  assert.equal(specifierAllowsPrereleases(parseSpecifier('>=1,<=2.0.dev1')), true);
});

test('filterVersions follows PEP 440: pre-releases only when asked, named, or nothing final matches', () => {
  const vs = ['1.0', '1.1', '2.0a1', '2.0'];
  assert.deepEqual(filterVersions(vs, parseSpecifier('>=1.0')), ['1.0', '1.1', '2.0']);
  assert.deepEqual(filterVersions(vs, parseSpecifier('>=1.0'), true), vs);
  assert.deepEqual(filterVersions(vs, parseSpecifier('>=2.0a1')), ['2.0a1', '2.0']);
  // Only a pre-release satisfies the set: it is acceptable.
  assert.deepEqual(filterVersions(vs, parseSpecifier('>1.1,<2.0')), []); // 2.0a1 is excluded by `<2.0` itself
  assert.deepEqual(filterVersions(['1.0', '3.0b1'], parseSpecifier('>2')), ['3.0b1']);
  assert.deepEqual(filterVersions(['3.0b1', '3.0rc1'], parseSpecifier('')), ['3.0b1', '3.0rc1']);
  // Invalid (legacy) versions only match ===.
  assert.deepEqual(filterVersions(['1.0', 'foo-bar'], parseSpecifier('')), ['1.0']);
  assert.deepEqual(filterVersions(['1.0', 'foo-bar'], parseSpecifier('===foo-bar')), ['foo-bar']);
});

test('parse, format and validate', () => {
  assert.equal(formatSpecifier(parseSpecifier(' >= 1.0 , < 2 ')), '>=1.0,<2');
  assert.equal(formatSpecifier(parseSpecifier('==1.2.*')), '==1.2.*');
  assert.ok(isPinned(parseSpecifier('==1.2')));
  assert.ok(!isPinned(parseSpecifier('==1.2.*')));
  assert.ok(isPinned(parseSpecifier('===1.2')));
  for (const bad of ['>=', '~=1', '>=1.0.*', '==1.0a1.*', '>=1.0+local', 'foo', '>=1.0,', '=>1.0', '>=1.0 <2']) {
    assert.equal(isValidSpecifier(bad), false, bad);
    assert.throws(() => parseSpecifier(bad), (e) => isWharfError(e) && e.code === 'BAD_REQUEST', bad);
  }
});
