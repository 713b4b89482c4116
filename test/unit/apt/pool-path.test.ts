import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWharfError } from '../../../src/core/errors.ts';
import { ControlStanza } from '../../../src/formats/apt/control.ts';
import { debFilename, poolPath, poolPrefix, sourceName } from '../../../src/formats/apt/pool-path.ts';

test('pool paths follow the Debian archive layout', () => {
  assert.equal(poolPath('main', 'hello', 'hello', '2.10-3', 'amd64'), 'pool/main/h/hello/hello_2.10-3_amd64.deb');
  assert.equal(poolPath('main', 'glibc', 'libc6', '2.36-9+deb12u4', 'amd64'), 'pool/main/g/glibc/libc6_2.36-9+deb12u4_amd64.deb');
  assert.equal(poolPath('contrib', 'libfoo', 'libfoo1', '1:1.0~rc1-1', 'all'), 'pool/contrib/libf/libfoo/libfoo1_1.0~rc1-1_all.deb');
  assert.equal(poolPath('main', '0ad', '0ad-data', '0.0.26-1', 'all'), 'pool/main/0/0ad/0ad-data_0.0.26-1_all.deb');
  assert.equal(poolPath('non-free-firmware', 'lib', 'lib', '1', 'all'), 'pool/non-free-firmware/l/lib/lib_1_all.deb');
});

test('a component is one path segment: "/" (also once decoded from %2f), "..", "\\" and NUL are refused', () => {
  for (const component of ['updates/main', 'a/b', '..', '../x', 'a\\b', 'a\u0000b', '', '.hidden', 'x'.repeat(101)]) {
    assert.throws(() => poolPath(component, 'lib', 'lib', '1', 'all'), (err: unknown) => isWharfError(err) && err.code === 'INVALID_NAME', JSON.stringify(component));
  }
});

test('poolPrefix: lib* sources use four characters', () => {
  assert.equal(poolPrefix('libxml2'), 'libx');
  assert.equal(poolPrefix('lib'), 'l');
  assert.equal(poolPrefix('liba'), 'liba');
  assert.equal(poolPrefix('python3'), 'p');
});

test('sourceName strips the version and falls back to the package', () => {
  assert.equal(sourceName(new ControlStanza([['Package', 'libc6'], ['Source', 'glibc (2.36-9)']])), 'glibc');
  assert.equal(sourceName(new ControlStanza([['Package', 'libc6'], ['source', 'glibc']])), 'glibc');
  assert.equal(sourceName(new ControlStanza([['Package', 'hello']])), 'hello');
});

test('debFilename drops the epoch', () => {
  assert.equal(debFilename('hello', '3:1.0-1', 'arm64'), 'hello_1.0-1_arm64.deb');
});

test('values that could escape the pool are refused', () => {
  const bad: [string, string, string, string, string][] = [
    ['../x', 'a1', 'a1', '1', 'all'],
    ['main/..', 'a1', 'a1', '1', 'all'],
    ['', 'a1', 'a1', '1', 'all'],
    ['main', '../a1', 'a1', '1', 'all'],
    ['main', 'a1', 'A1', '1', 'all'],
    ['main', 'a1', 'a1', '1/../../x', 'all'],
    ['main', 'a1', 'a1', '1', 'all/x'],
  ];
  for (const args of bad) {
    assert.throws(() => poolPath(...args), (e: unknown) => isWharfError(e) && e.code === 'INVALID_NAME', args.join(' '));
  }
});
