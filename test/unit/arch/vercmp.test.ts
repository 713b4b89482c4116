// vercmp is checked against pacman's own `vercmp` binary at test time: the table holds
// only inputs, never expected answers.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { parsePkgVersion, vercmp } from '../../../src/formats/arch/vercmp.ts';

function realVercmp(a: string, b: string): number {
  const out = execFileSync('/usr/bin/vercmp', [a, b], { encoding: 'utf8' }).trim();
  return Math.sign(Number(out));
}

const TRICKY: Array<[string, string]> = [
  ['1.0', '1.0'],
  ['1.0', '1.0.0'],
  ['1.0.0', '1.0'],
  ['1.0a', '1.0'],
  ['1.0', '1.0a'],
  ['1.0a', '1.0b'],
  ['1.0alpha', '1.0beta'],
  ['1.0alpha', '1.0'],
  ['1.0', '1.0.a'],
  ['1.0.a', '1.0a'],
  ['1.0a1', '1.0.1'],
  ['1.0~rc1', '1.0'], // `~` is a plain separator in pacman, unlike dpkg
  ['1.0~rc1', '1.0rc1'],
  ['1.0rc1', '1.0'],
  ['1.0-rc1', '1.0'],
  ['1.0+1', '1.0.1'],
  ['1.0..1', '1.0.1'],
  ['1.0.1', '1.0_1'],
  ['1.0.', '1.0'],
  ['1_0', '1.0'],
  ['001', '1'],
  ['1.01', '1.1'],
  ['1.010', '1.9'],
  ['12345678901234567890', '12345678901234567891'],
  ['99999999999999999999999', '100000000000000000000000'],
  ['a', '1'],
  ['1a', '1'],
  ['abc', 'abd'],
  ['r100.abc', 'r99.def'],
  ['1:1.0', '2.0'],
  ['0:1.0', '1.0'],
  [':1.0', '1.0'],
  ['1:1.0', '1:1.0-1'],
  ['2:1', '10:1'],
  ['01:1', '1:1'],
  ['a:1.0', '1.0'],
  ['1.0-1', '1.0-2'],
  ['1.0-2', '1.0-10'],
  ['1.0', '1.0-2'],
  ['1.0-1', '1.0'],
  ['1.0-1', '1.0.1-1'],
  ['1.0-1.1', '1.0-1'],
  ['1.0-1.1', '1.0-1.01'],
  ['1.0-rc1-1', '1.0-1'],
  ['1.0.0-1', '1.0-1'],
  ['1:1.0-1', '1.0-5'],
  ['1.0', ''],
  ['', ''],
  ['-', '-1'],
  ['1.é', '1.e'],
  ['1.é1', '1.1'],
  ['2.0.0alpha', '2.0.0.alpha'],
  ['6.0.2', '6.0.2.r34.g1234567'],
  ['20240101', '2024.01.01'],
];

describe('vercmp', () => {
  test('agrees with /usr/bin/vercmp on tricky cases', () => {
    for (const [a, b] of TRICKY) {
      assert.equal(vercmp(a, b), realVercmp(a, b), `vercmp(${JSON.stringify(a)}, ${JSON.stringify(b)})`);
      assert.equal(vercmp(b, a), realVercmp(b, a), `vercmp(${JSON.stringify(b)}, ${JSON.stringify(a)})`);
    }
  });

  test('agrees with /usr/bin/vercmp on random versions', () => {
    // A seeded generator so that a failure can be reproduced; the seed is in the message.
    const seed = Date.now() >>> 0;
    let state = seed;
    const rand = () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const alphabet = ['0', '1', '2', '9', '10', 'a', 'b', 'z', 'A', '.', '.', '-', ':', '_', '~', '+'];
    const gen = () => Array.from({ length: Math.floor(rand() * 7) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    for (let i = 0; i < 200; i++) {
      const a = gen();
      // Half the pairs share a prefix, where the interesting comparisons happen.
      const b = rand() < 0.5 ? gen() : a.slice(0, Math.floor(rand() * (a.length + 1))) + gen();
      assert.equal(vercmp(a, b), realVercmp(a, b), `seed ${seed}: vercmp(${JSON.stringify(a)}, ${JSON.stringify(b)})`);
    }
  });

  test('returns only -1, 0 or 1 and is antisymmetric', () => {
    for (const [a, b] of TRICKY) {
      const r = vercmp(a, b);
      assert.ok([-1, 0, 1].includes(r));
      assert.equal(vercmp(b, a), -r || 0);
    }
  });

  test('sorts versions as pacman would pick the newest', () => {
    const sorted = ['1.0-2', '1:0.1-1', '1.0a-1', '1.0.1-1', '1.0-10'].sort(vercmp);
    assert.deepEqual(sorted, ['1.0a-1', '1.0-2', '1.0-10', '1.0.1-1', '1:0.1-1']);
  });
});

describe('parsePkgVersion', () => {
  test('splits epoch, pkgver and pkgrel', () => {
    assert.deepEqual(parsePkgVersion('1.0-1'), { epoch: 0, pkgver: '1.0', pkgrel: '1' });
    assert.deepEqual(parsePkgVersion('2:1.0.r3.gabc_x+y~z-1.2'), { epoch: 2, pkgver: '1.0.r3.gabc_x+y~z', pkgrel: '1.2' });
    assert.deepEqual(parsePkgVersion('0:1-1'), { epoch: 0, pkgver: '1', pkgrel: '1' });
  });

  test('rejects what makepkg would not produce', () => {
    for (const bad of ['', '1.0', '1.0-', '-1', '1.0-1-1', '1.0-1a', '1.0-1.', '1.0-a', 'a:1.0-1', ':1.0-1',
      '1:2:3-1', '1/0-1', '1 0-1', 'é-1', '1.0--1']) {
      assert.equal(parsePkgVersion(bad), null, JSON.stringify(bad));
    }
  });
});
