import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWharfError } from '../../../../src/core/errors.ts';
import { environmentFor, evaluateMarker, formatMarker, markerUsesExtra, parseMarker } from '../../../../src/formats/pypi/mirror/markers.ts';
import type { Target } from '../../../../src/formats/pypi/mirror/target.ts';
import { oracleAvailable, runPython, skipReason } from './oracle.ts';

const MARKERS = [
  'python_version >= "3.8"',
  'python_version < "3.10"',
  "python_version<'3.12' and sys_platform=='linux'",
  'python_version > "3.9" or os_name == "nt"',
  'python_full_version >= "3.11.2"',
  'python_full_version == "3.11.*"',
  'python_version ~= "3.10"',
  'python_version != "3.11"',
  '"3.9" < python_version',
  'sys_platform == "win32"',
  'sys_platform != "darwin" and (platform_machine == "x86_64" or platform_machine == "aarch64")',
  'platform_system == "Darwin" and platform_machine == "arm64"',
  'platform_machine in "x86_64 AMD64"',
  'platform_machine not in "arm64 aarch64"',
  '"linux" in sys_platform',
  'os_name == "posix" and python_version >= "3.8" and python_version < "4"',
  'implementation_name == "cpython"',
  'platform_python_implementation != "PyPy"',
  'implementation_version >= "3.11"',
  'extra == "socks"',
  'extra == "test" and python_version < "3.11"',
  'extra != "test"',
  '(extra == "a" or extra == "b") and sys_platform == "linux"',
  // packaging 21.3 predates PEP 685 and does not normalise the literal: spelled normalised here.
  'python_version >= "3" and extra == "dev-tools"',
  'platform_release >= "5"',
  'python_version === "3.11"',
  'sys_platform < "m"',
  "os.name == 'nt'",
];
const TARGETS: Target[] = [
  { python: '3.8', platform: 'linux_x86_64' },
  { python: '3.11', platform: 'linux_aarch64' },
  { python: '3.11.4', platform: 'macosx_arm64' },
  { python: '3.12', platform: 'macosx_x86_64' },
  { python: '3.10', platform: 'win_amd64' },
];
const EXTRAS = [[], ['socks'], ['test'], ['dev-tools'], ['a', 'test']];

test('markers evaluate as packaging evaluates them for each target and extra', { skip: !oracleAvailable() && skipReason }, () => {
  const cases = MARKERS.flatMap((m) => TARGETS.flatMap((t) => EXTRAS.map((extras) => ({ m, env: environmentFor(t), extras }))));
  // pip evaluates a requirement's dependency markers with extra "" and with each requested extra.
  const expected = runPython<boolean[]>(`
import json, sys
from pip._vendor.packaging.markers import Marker
from pip._vendor.packaging.utils import canonicalize_name
out = []
for c in json.load(sys.stdin):
    m = Marker(c['m'])
    out.append(any(m.evaluate(dict(c['env'], extra=canonicalize_name(e) if e else '')) for e in [''] + c['extras']))
print(json.dumps(out))
`, cases);
  const mismatches = cases.filter((c, i) => evaluateMarker(parseMarker(c.m), c.env, c.extras) !== expected[i])
    .map((c) => `${c.m} @ ${c.env.sys_platform}/${c.env.python_full_version} extras=${c.extras.join(',')}`);
  assert.deepEqual(mismatches, []);
});

test('extra names compare normalised (PEP 685) even where old packaging does not', () => {
  const env = environmentFor({ python: '3.11', platform: 'linux_x86_64' });
  assert.equal(evaluateMarker(parseMarker('extra == "Dev_Tools"'), env, ['dev.tools']), true);
  assert.equal(evaluateMarker(parseMarker('extra == "dev-tools"'), env, ['DEV_TOOLS']), true);
  assert.equal(evaluateMarker(parseMarker('extra == "dev-tools"'), env, []), false);
});

test('environments for the named platforms', () => {
  assert.deepEqual(environmentFor({ python: '3.11', platform: 'win_amd64' }), {
    python_version: '3.11', python_full_version: '3.11.0', os_name: 'nt', sys_platform: 'win32',
    platform_system: 'Windows', platform_machine: 'AMD64', platform_release: '', platform_version: '',
    platform_python_implementation: 'CPython', implementation_name: 'cpython', implementation_version: '3.11.0',
  });
  const mac = environmentFor({ python: '3.12.3', platform: 'macosx_14_0_arm64' });
  assert.equal(mac.sys_platform, 'darwin');
  assert.equal(mac.platform_machine, 'arm64');
  assert.equal(mac.python_full_version, '3.12.3');
  const linux = environmentFor({ python: '3.9', platform: 'manylinux2014_aarch64' });
  assert.equal(linux.platform_system, 'Linux');
  assert.equal(linux.platform_machine, 'aarch64');
  assert.throws(() => environmentFor({ python: '3.11', platform: 'solaris_sparc' }), (e) => isWharfError(e) && /unknown target platform/.test(e.message));
  assert.throws(() => environmentFor({ python: 'three', platform: 'win32' }), (e) => isWharfError(e) && /Python version/.test(e.message));
});

test('parse errors are bad requests that say what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['', /empty marker/],
    ['python_version >= ', /end/],
    ['python_version "3.8"', /comparison operator/],
    ['pyhton_version >= "3.8"', /unknown variable "pyhton_version"/],
    ['(python_version >= "3.8"', /missing "\)"/],
    ['python_version >= "3.8" and', /end/],
    ['python_version >= "3.8" os_name == "nt"', /unexpected/],
    ['python_version >= "3.8', /unexpected/],
  ];
  for (const [text, why] of cases) {
    assert.throws(() => parseMarker(text), (e) => isWharfError(e) && e.code === 'BAD_REQUEST' && why.test(e.message), text);
  }
});

test('formatting keeps precedence and round-trips', () => {
  const m = parseMarker('(os_name=="nt" or extra=="x") and python_version<"3.9"');
  assert.equal(formatMarker(m), '(os_name == "nt" or extra == "x") and python_version < "3.9"');
  assert.deepEqual(parseMarker(formatMarker(m)), m);
  assert.equal(markerUsesExtra(m), true);
  assert.equal(markerUsesExtra(parseMarker('os_name == "nt"')), false);
  // `and` binds tighter than `or`.
  const env = environmentFor({ python: '3.11', platform: 'linux_x86_64' });
  assert.equal(evaluateMarker(parseMarker('os_name == "posix" or os_name == "nt" and python_version < "3"'), env), true);
  assert.equal(evaluateMarker(parseMarker('(os_name == "posix" or os_name == "nt") and python_version < "3"'), env), false);
});
