import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeDistName, isValidProjectName, normalizeName } from '../../../src/formats/pypi/names.ts';
import { compareVersions, isPrerelease, isValidVersion, normalizeVersion, sortVersions } from '../../../src/formats/pypi/version.ts';

test('normalizeName follows PEP 503', () => {
  const cases: [string, string][] = [
    ['Django', 'django'], ['Foo.Bar', 'foo-bar'], ['foo_bar', 'foo-bar'], ['FOO--bar', 'foo-bar'],
    ['a-_.b', 'a-b'], ['zope.interface', 'zope-interface'], ['x', 'x'], ['Ruamel.Yaml.Clib', 'ruamel-yaml-clib'],
  ];
  for (const [input, want] of cases) assert.equal(normalizeName(input), want, input);
  assert.equal(escapeDistName('Foo.Bar-baz'), 'foo_bar_baz');
});

test('isValidProjectName accepts PEP 508 names and rejects the rest', () => {
  for (const ok of ['a', 'A1', 'foo-bar', 'foo.bar_baz', 'Z9', '1a']) assert.equal(isValidProjectName(ok), true, ok);
  for (const bad of ['', '-foo', 'foo-', '.foo', 'foo_', 'foo bar', 'föö', 'foo/bar', '../x', 'a\nb']) assert.equal(isValidProjectName(bad), false, JSON.stringify(bad));
});

test('normalizeVersion gives the PEP 440 canonical form', () => {
  // Expected values are what Python's packaging.version.Version prints.
  const cases: [string, string][] = [
    ['1.0.0-RC1', '1.0.0rc1'], ['v1.0', '1.0'], ['1.0-1', '1.0.post1'], ['1.0+abc.01', '1.0+abc.1'],
    ['1.0+ubuntu-1', '1.0+ubuntu.1'], ['1!2.0.post1.dev3', '1!2.0.post1.dev3'], ['1.0.DEV', '1.0.dev0'],
    ['1.0a', '1.0a0'], ['1.0-alpha.1', '1.0a1'], ['1.0c1', '1.0rc1'], ['1.0.pre2', '1.0rc2'],
    ['1.0-r4', '1.0.post4'], ['1.0.rev5', '1.0.post5'], ['01.02.003', '1.2.3'], ['1.0_post_2', '1.0.post2'],
    [' 2.0 ', '2.0'], ['0!1.0', '1.0'], ['1.0.0.0', '1.0.0.0'],
  ];
  for (const [input, want] of cases) assert.equal(normalizeVersion(input), want, input);
  for (const bad of ['', 'x', '1.0-', '1..0', '1.0+', '1.0+a..b', 'latest', '1.0 beta', '1.0-foo']) {
    assert.equal(normalizeVersion(bad), null, JSON.stringify(bad));
    assert.equal(isValidVersion(bad), false, JSON.stringify(bad));
  }
});

// The ordering table from packaging's test suite: each entry sorts before the next.
const ORDERED = [
  '1.0.dev456', '1.0a1', '1.0a2.dev456', '1.0a12.dev456', '1.0a12', '1.0b1.dev456', '1.0b2',
  '1.0b2.post345.dev456', '1.0b2.post345', '1.0b2-346', '1.0c1.dev456', '1.0c1', '1.0rc2', '1.0c3',
  '1.0', '1.0.post456.dev34', '1.0.post456', '1.1.dev1', '1.2+123abc', '1.2+123abc456', '1.2+abc',
  '1.2+abc123', '1.2+abc123def', '1.2+1234.abc', '1.2+123456', '1.2.r32+123456', '1.2.rev33+123456',
  '1!1.0.dev456', '1!1.0a1', '1!1.0', '1!1.0.post456', '1!1.2.rev33+123456',
];

test('compareVersions orders dev < a < b < rc < final < post, then epochs, locals after publics', () => {
  for (let i = 0; i < ORDERED.length; i++) {
    for (let j = 0; j < ORDERED.length; j++) {
      const want = Math.sign(i - j);
      assert.equal(compareVersions(ORDERED[i], ORDERED[j]), want, `${ORDERED[i]} vs ${ORDERED[j]}`);
    }
  }
});

test('sortVersions sorts ascending without mutating, equal forms compare equal', () => {
  const shuffled = [...ORDERED].reverse();
  shuffled.push(shuffled.shift()!);
  const copy = [...shuffled];
  assert.deepEqual(sortVersions(shuffled), ORDERED);
  assert.deepEqual(shuffled, copy);
  assert.equal(compareVersions('1.0', '1.0.0'), 0);
  assert.equal(compareVersions('1.0.0-RC1', '1.0rc1'), 0);
  assert.equal(compareVersions('2.0', '10.0'), -1);
  // Legacy versions sort first instead of throwing.
  assert.deepEqual(sortVersions(['2.0', 'weird-legacy', '1.0']), ['weird-legacy', '1.0', '2.0']);
});

test('isPrerelease is true for a, b, rc and dev releases only', () => {
  for (const v of ['1.0a1', '1.0b2', '1.0rc1', '1.0.dev0', '1.0.post1.dev1', '2.0c1']) assert.equal(isPrerelease(v), true, v);
  for (const v of ['1.0', '1.0.post1', '1!1.0', '1.0+local', 'not a version']) assert.equal(isPrerelease(v), false, v);
});
