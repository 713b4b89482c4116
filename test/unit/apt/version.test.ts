import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { isWharfError } from '../../../src/core/errors.ts';
import { compareDebVersions, debVersionError, isValidDebVersion, parseDebVersion, versionWithoutEpoch } from '../../../src/formats/apt/version.ts';

const PAIRS: [string, string][] = [
  ['1.0~rc1', '1.0'],
  ['1.0~rc1', '1.0~rc2'],
  ['1.0~~', '1.0~'],
  ['1.0~~a', '1.0~~'],
  ['1.0~', '1.0'],
  ['1:0.1', '2.0'],
  ['0:1.0', '1.0'],
  ['00:1.0', '1.0'],
  ['1.0-1', '1.0'],
  ['1.0-0', '1.0'],
  ['1.0', '1.0-0'],
  ['1.0-1', '1.0-1+b1'],
  ['1.0+b1', '1.0'],
  ['1.0a', '1.0+'],
  ['1.0a', '1.0'],
  ['1.0+', '1.0'],
  ['1.0.', '1.0'],
  ['1.0', '1.00'],
  ['1.01', '1.1'],
  ['1.001', '1.01'],
  ['0.0', '0'],
  ['1.2.3', '1.2.10'],
  ['1.2.3a', '1.2.3b'],
  ['1.2.3A', '1.2.3a'],
  ['1.2.3Z', '1.2.3+'],
  ['1.2-3', '1.2-10'],
  ['1.2-rc1', '1.2-1'],
  ['2:1.0', '10:0.1'],
  ['1.0-1ubuntu1', '1.0-1'],
  ['1.0-1~bpo12+1', '1.0-1'],
  ['1.0-1+deb12u1', '1.0-1'],
  ['1.0+dfsg-1', '1.0-1'],
  ['1.0+dfsg-1', '1.0.1-1'],
  ['9007199254740993', '9007199254740992'],
  ['1.18446744073709551617', '1.18446744073709551616'],
  ['123456789012345678901234567890', '123456789012345678901234567891'],
  ['99999999999999999999:1.0', '99999999999999999998:2.0'],
  ['1.0-a-b', '1.0-a'],
  ['1-2-3', '1-2'],
  ['2.0', '2.0'],
  ['7.6p2-4', '7.6-0'],
  ['1.0.3-3', '1.0-1'],
  ['1.3', '1.2.2-2'],
  ['1.3', '1.2.2'],
  ['0-pre', '0-pre'],
  ['0-pre', '0-pree'],
  ['1.1.6r2-2', '1.1.6r-1'],
  ['2.6b2-1', '2.6b-2'],
  ['98.1p5-1', '98.1-pre2-b6-2'],
  ['0.4a6-2', '0.4-1'],
  ['1:3.0.5-2', '1:3.0.5.1'],
  ['4.4.3-2', '4.4-1'],
  ['1:2.14.2-1', '1:2.14-1'],
  ['2.4-1', '2.4.1-1'],
  ['3.0-1', '3.0.1-1'],
  ['1.0+~', '1.0+'],
  ['1.0~+', '1.0~'],
];

/** What `dpkg --compare-versions` says for each pair: -1, 0 or 1 (one shell for all pairs). */
function dpkgOrder(pairs: [string, string][]): number[] {
  const script = 'while read -r a b; do if dpkg --compare-versions "$a" lt "$b"; then echo -1; ' +
    'elif dpkg --compare-versions "$a" eq "$b"; then echo 0; else echo 1; fi; done';
  const out = execFileSync('sh', ['-c', script], { input: pairs.map(([a, b]) => `${a} ${b}\n`).join(''), encoding: 'utf8' });
  return out.trim().split('\n').map(Number);
}

test('compareDebVersions agrees with dpkg --compare-versions on tricky cases', () => {
  const expected = dpkgOrder(PAIRS);
  assert.equal(expected.length, PAIRS.length);
  // Both -1 and 1 (and 0) must appear, or the table proves nothing.
  assert.ok(expected.includes(-1) && expected.includes(0) && expected.includes(1));
  PAIRS.forEach(([a, b], i) => {
    assert.equal(compareDebVersions(a, b), expected[i], `${a} vs ${b}`);
    assert.equal(compareDebVersions(b, a), -expected[i] || 0, `${b} vs ${a}`);
  });
});

test('compareDebVersions agrees with dpkg on generated versions', () => {
  let seed = 42;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  const pieces = ['0', '1', '2', '10', '01', '.', '~', '+', 'a', 'b', 'Z', '~~', '99'];
  const version = () => {
    let v = ['0', '1', '2', '10'][rand(4)];
    for (let n = rand(5); n > 0; n--) v += pieces[rand(pieces.length)];
    if (rand(3) === 0) v += `-${['1', '0', '1~', '1+b1', 'a'][rand(5)]}`;
    if (rand(4) === 0) v = `${rand(3)}:${v}`;
    return v;
  };
  const pairs: [string, string][] = Array.from({ length: 250 }, () => [version(), version()]);
  const expected = dpkgOrder(pairs);
  pairs.forEach(([a, b], i) => assert.equal(compareDebVersions(a, b), expected[i], `${a} vs ${b}`));
});

test('sorting with compareDebVersions', () => {
  const sorted = ['1.0', '1:0.1', '1.0~rc1', '1.0-1', '1.0+b1', '0.9', '1.0~~', '1.0-1~bpo1'].sort(compareDebVersions);
  assert.deepEqual(sorted, ['0.9', '1.0~~', '1.0~rc1', '1.0', '1.0-1~bpo1', '1.0-1', '1.0+b1', '1:0.1']);
});

test('parseDebVersion splits epoch, upstream and revision', () => {
  assert.deepEqual(parseDebVersion('1:2.0-1'), { epoch: '1', upstream: '2.0', revision: '1' });
  assert.deepEqual(parseDebVersion('2.0'), { epoch: '0', upstream: '2.0', revision: '' });
  assert.deepEqual(parseDebVersion('2.0-rc-1+b1'), { epoch: '0', upstream: '2.0-rc', revision: '1+b1' });
  assert.deepEqual(parseDebVersion('3:1.0~rc1'), { epoch: '3', upstream: '1.0~rc1', revision: '' });
  assert.throws(() => parseDebVersion('abc'), (e: unknown) => isWharfError(e) && e.code === 'INVALID_PACKAGE' && /does not start with a digit/.test(e.message));
});

test('isValidDebVersion follows Debian policy', () => {
  for (const ok of ['0', '1.0', '1:1.0', '1.0-1', '1.0~rc1+dfsg-0ubuntu1~22.04.1', '2.0-rc-1', '0.1+git20240101.abc', '10:1.0a~b+c-1.2~3', '9007199254740993']) {
    assert.equal(isValidDebVersion(ok), true, ok);
  }
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['a1.0', /does not start with a digit/],
    ['1.0 beta', /whitespace/],
    [':1.0', /epoch is empty/],
    ['x:1.0', /epoch is not a number/],
    ['99999999999:1.0', /epoch is too big/],
    ['1.0-', /revision is empty/],
    ['1:', /upstream version is empty/],
    ['-1', /upstream version is empty/],
    ['1.0_1', /invalid character in upstream/],
    ['1:2:3', /invalid character in upstream/],
    ['1.0-1_2', /invalid character in revision/],
    ['1.0-1=2', /invalid character in revision/],
    ['1.0-1:2', /epoch is not a number/],
    ['1.0/2', /invalid character/],
  ];
  for (const [v, why] of bad) {
    assert.equal(isValidDebVersion(v), false, v);
    assert.match(debVersionError(v) ?? '', why, v);
  }
});

test('versionWithoutEpoch', () => {
  assert.equal(versionWithoutEpoch('1:2.0-1'), '2.0-1');
  assert.equal(versionWithoutEpoch('2.0-1'), '2.0-1');
  assert.equal(versionWithoutEpoch('12:0'), '0');
});
