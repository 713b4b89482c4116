import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWharfError } from '../../../src/core/errors.ts';
import { parseDistFilename } from '../../../src/formats/pypi/filename.ts';

function rejects(filename: string, pattern: RegExp) {
  assert.throws(() => parseDistFilename(filename), (err: unknown) => {
    assert.ok(isWharfError(err), `${JSON.stringify(filename)} threw a non-Wharf error`);
    assert.equal(err.code, 'INVALID_PACKAGE');
    assert.match(err.message, pattern, JSON.stringify(filename));
    return true;
  });
}

test('wheel filenames with and without a build tag', () => {
  assert.deepEqual(parseDistFilename('Foo_Bar-1.0.0rc1-py3-none-any.whl'), {
    kind: 'wheel', name: 'Foo_Bar', normalizedName: 'foo-bar', version: '1.0.0rc1', ext: '.whl',
    pythonTag: 'py3', abiTag: 'none', platformTag: 'any', packagetype: 'bdist_wheel', pyversion: 'py3',
  });
  assert.deepEqual(parseDistFilename('numpy-1.26.4-1local-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl'), {
    kind: 'wheel', name: 'numpy', normalizedName: 'numpy', version: '1.26.4', ext: '.whl', buildTag: '1local',
    pythonTag: 'cp312', abiTag: 'cp312', platformTag: 'manylinux_2_17_x86_64.manylinux2014_x86_64',
    packagetype: 'bdist_wheel', pyversion: 'cp312',
  });
  const local = parseDistFilename('torch-2.3.0+cu121-cp311-cp311-linux_x86_64.whl');
  assert.equal(local.version, '2.3.0+cu121');
  assert.equal(local.pyversion, 'cp311');
});

test('PEP 625 sdists and the legacy extensions', () => {
  assert.deepEqual(parseDistFilename('foo_bar-2.0.tar.gz'), {
    kind: 'sdist', name: 'foo_bar', normalizedName: 'foo-bar', version: '2.0', ext: '.tar.gz', packagetype: 'sdist', pyversion: 'source',
  });
  for (const ext of ['.zip', '.tar.bz2', '.tgz'] as const) {
    const d = parseDistFilename(`pkg-1.0${ext}`);
    assert.equal(d.ext, ext);
    assert.equal(d.version, '1.0');
  }
});

test('legacy sdist names with dashes split where the rest is a version', () => {
  const d = parseDistFilename('django-rest-framework-3.14.0.tar.gz');
  assert.equal(d.name, 'django-rest-framework');
  assert.equal(d.version, '3.14.0');
  assert.equal(d.normalizedName, 'django-rest-framework');
  assert.equal(parseDistFilename('python-3-module-1.0.zip').name, 'python-3-module');
  // `foo-1.0-1` is foo 1.0.post1 unless the uploader says the project is `foo-1.0`.
  assert.deepEqual([parseDistFilename('foo-1.0-1.tar.gz').name, parseDistFilename('foo-1.0-1.tar.gz').version], ['foo', '1.0-1']);
  const hinted = parseDistFilename('foo-1.0-1.tar.gz', 'FOO.1.0');
  assert.deepEqual([hinted.name, hinted.version], ['foo-1.0', '1']);
  // A hint that matches no split does not change the answer.
  assert.equal(parseDistFilename('foo-bar-1.0.tar.gz', 'other').name, 'foo-bar');
});

test('bad extensions, part counts and versions', () => {
  rejects('foo-1.0.exe', /unsupported file extension/);
  rejects('foo-1.0.tar.xz', /unsupported file extension/);
  rejects('foo-1.0.egg', /unsupported file extension/);
  rejects('foo-1.0.WHL', /unsupported file extension/);
  rejects('foo-1.0-py3-any.whl', /4 dash-separated parts/);
  rejects('foo-1.0-1-2-py3-none-any.whl', /7 dash-separated parts/);
  rejects('foo-one-py3-none-any.whl', /invalid PEP 440 version.*"one"/);
  rejects('foo-1.0-x1-py3-none-any.whl', /build tag.*start with a digit/);
  rejects('-1.0-py3-none-any.whl', /invalid project name/);
  rejects('foo-1.0-py3-none-.whl', /invalid platform tag/);
  rejects('foo-1.0-py3-no+ne-any.whl', /invalid abi tag/);
  rejects('foo.tar.gz', /expected \{name\}-\{version\}\.tar\.gz/);
  rejects('foo-bar.tar.gz', /no valid project name and PEP 440 version/);
  rejects('foo-1.0 .tar.gz', /whitespace/);
});

test('anything that could be a path is refused', () => {
  rejects('../foo-1.0.tar.gz', /path separator/);
  rejects('a/foo-1.0.tar.gz', /path separator/);
  rejects('a\\foo-1.0.tar.gz', /path separator/);
  rejects('foo..bar-1.0.tar.gz', /"\.\."/);
  rejects('foo-1.0\u0000.whl', /control characters/);
  rejects('foo-1.0\n-py3-none-any.whl', /control characters/);
  rejects('foo\u007f-1.0.zip', /control characters/);
  rejects('.foo-1.0.tar.gz', /start with "\."/);
  rejects('', /empty filename/);
  rejects(`${'a'.repeat(250)}-1.0.tar.gz`, /longer than 255 bytes/);
  // 255 bytes counted in UTF-8, not characters.
  rejects(`${'é'.repeat(124)}-1.0.zip`, /longer than 255 bytes/);
  assert.equal(parseDistFilename(`${'a'.repeat(245)}-1.0.zip`).name.length, 245);
});
