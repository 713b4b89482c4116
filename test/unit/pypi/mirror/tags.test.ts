import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDistFilename } from '../../../../src/formats/pypi/filename.ts';
import { wheelSupported } from '../../../../src/formats/pypi/mirror/tags.ts';
import type { Target } from '../../../../src/formats/pypi/mirror/target.ts';
import { oracleAvailable, runPython, skipReason } from './oracle.ts';

const WHEEL_TAGS = [
  'py3-none-any', 'py2.py3-none-any', 'py2-none-any', 'py311-none-any', 'py312-none-any', 'py38-none-any', 'cp311-none-any',
  'cp310-none-any', 'cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64', 'cp311-cp311-manylinux_2_28_x86_64',
  'cp311-cp311-manylinux_2_36_x86_64', 'cp311-cp311-manylinux1_x86_64', 'cp311-cp311-manylinux2010_x86_64',
  'cp311-cp311-manylinux_2_5_x86_64', 'cp311-cp311-manylinux_2_12_aarch64', 'cp311-cp311-manylinux_2_17_aarch64',
  'cp311-cp311-manylinux2014_aarch64', 'cp311-cp311-musllinux_1_1_x86_64', 'cp311-cp311-musllinux_1_2_aarch64',
  'cp311-cp311-linux_x86_64', 'cp311-cp311-linux_aarch64', 'cp38-abi3-manylinux_2_17_x86_64', 'cp37-abi3-win_amd64',
  'cp312-abi3-win_amd64', 'cp311-abi3-macosx_11_0_arm64', 'cp32-abi3-manylinux1_x86_64', 'cp311-abi3-any',
  'cp311-cp311-win_amd64', 'cp311-cp311-win32', 'cp311-cp311-win_arm64', 'cp310-cp310-win_amd64', 'cp38-cp38-win_amd64',
  'cp37-cp37m-win_amd64', 'cp311-cp311-macosx_10_9_x86_64', 'cp311-cp311-macosx_10_9_universal2', 'cp311-cp311-macosx_11_0_arm64',
  'cp311-cp311-macosx_12_0_arm64', 'cp311-cp311-macosx_14_0_arm64', 'cp311-cp311-macosx_15_0_arm64', 'cp311-cp311-macosx_11_3_arm64',
  'cp311-cp311-macosx_10_15_intel', 'cp311-cp311-macosx_10_3_x86_64', 'cp311-cp311-macosx_10_9_arm64', 'cp311-cp311-macosx_13_0_x86_64',
  'cp311-cp311-macosx_10_6_universal', 'py3-none-manylinux_2_17_x86_64', 'py3-none-macosx_11_0_arm64', 'py3-none-win_amd64',
  'py311-none-win_amd64', 'cp311-none-win_amd64', 'cp310-none-win_amd64', 'pp310-pypy310_pp73-manylinux_2_17_x86_64',
  'cp311-cp311d-manylinux_2_17_x86_64', 'cp38-cp38-manylinux_2_17_x86_64.manylinux2014_x86_64', 'cp312-cp312-manylinux_2_17_x86_64',
];
const TARGETS: Target[] = [
  { python: '3.11', platform: 'linux_x86_64' },
  { python: '3.11', platform: 'linux_aarch64' },
  { python: '3.11', platform: 'linux_x86_64', libc: 'musl' },
  { python: '3.11', platform: 'linux_aarch64', libc: 'musl', musl: '1.2' },
  { python: '3.11', platform: 'linux_x86_64', glibc: '2.17' },
  { python: '3.11', platform: 'manylinux_2_28_x86_64' },
  { python: '3.11', platform: 'manylinux2014_aarch64' },
  { python: '3.11', platform: 'musllinux_1_1_x86_64' },
  { python: '3.11', platform: 'macosx_14_0_arm64' },
  { python: '3.11', platform: 'macosx_11_0_arm64' },
  { python: '3.11', platform: 'macosx_13_0_x86_64' },
  { python: '3.11', platform: 'macosx_10_15_x86_64' },
  { python: '3.11', platform: 'win_amd64' },
  { python: '3.11', platform: 'win32' },
  { python: '3.11', platform: 'win_arm64' },
  { python: '3.8', platform: 'win_amd64' },
  { python: '3.7', platform: 'linux_x86_64' },
  { python: '3.12', platform: 'linux_x86_64' },
];

// Supported tags from packaging.tags for a target, with glibc/musl pinned
// instead of read from this machine.
const ORACLE = `
import json, sys, re
from pip._vendor.packaging import tags, _manylinux, _musllinux
LEGACY = {'manylinux1': '2.5', 'manylinux2010': '2.12', 'manylinux2014': '2.17'}
def platforms(t):
    p = t['platform']
    m = re.match(r'^linux_(.+)$', p)
    libc, version, plain = None, None, False
    if m:
        arch, plain = m.group(1), True
        libc = t.get('libc', 'glibc')
        version = t.get('musl', '1.2') if libc == 'musl' else t.get('glibc', '2.35')
    elif re.match(r'^manylinux_\\d+_\\d+_', p):
        mm = re.match(r'^manylinux_(\\d+)_(\\d+)_(.+)$', p); libc, version, arch = 'glibc', mm.group(1) + '.' + mm.group(2), mm.group(3)
    elif re.match(r'^manylinux(1|2010|2014)_', p):
        mm = re.match(r'^(manylinux\\d+)_(.+)$', p); libc, version, arch = 'glibc', LEGACY[mm.group(1)], mm.group(2)
    elif p.startswith('musllinux_'):
        mm = re.match(r'^musllinux_(\\d+)_(\\d+)_(.+)$', p); libc, version, arch = 'musl', mm.group(1) + '.' + mm.group(2), mm.group(3)
    if libc:
        major, minor = map(int, version.split('.'))
        out = []
        if libc == 'glibc':
            _manylinux._get_glibc_version = lambda: (major, minor)
            _manylinux._have_compatible_abi = lambda arch: True
            out += list(_manylinux.platform_tags('linux_' + arch, arch))
        else:
            _musllinux._get_musl_version = lambda exe: _musllinux._MuslVersion(major, minor)
            out += list(_musllinux.platform_tags(arch))
        return out + (['linux_' + arch] if plain else [])
    mm = re.match(r'^macosx_(\\d+)_(\\d+)_(.+)$', p)
    if mm:
        return list(tags.mac_platforms((int(mm.group(1)), int(mm.group(2))), mm.group(3)))
    return [p]
out = []
for t, wheels in json.load(sys.stdin):
    major, minor = map(int, t['python'].split('.')[:2])
    abi = 'cp%d%d%s' % (major, minor, 'm' if minor < 8 else '')
    plats = platforms(t)
    supported = set(tags.cpython_tags((major, minor), [abi], plats)) | set(tags.compatible_tags((major, minor), 'cp%d%d' % (major, minor), plats))
    out.append([any(tag in supported for tag in tags.parse_tag(w)) for w in wheels])
print(json.dumps(out))
`;

test('wheel tags: the same verdict as packaging.tags for a table of wheels and targets', { skip: !oracleAvailable() && skipReason }, () => {
  const expected = runPython<boolean[][]>(ORACLE, TARGETS.map((t) => [t, WHEEL_TAGS]));
  const mismatches: string[] = [];
  TARGETS.forEach((t, ti) => WHEEL_TAGS.forEach((w, wi) => {
    const ours = wheelSupported(parseDistFilename(`demo-1.0-${w}.whl`), t);
    if (ours !== expected[ti][wi]) mismatches.push(`${w} on ${JSON.stringify(t)}: ours ${ours}, packaging ${expected[ti][wi]}`);
  }));
  assert.deepEqual(mismatches, []);
  // The table is not trivially one-sided.
  const flat = expected.flat();
  assert.ok(flat.filter(Boolean).length > 100 && flat.filter((x) => !x).length > 100);
});

test('macOS targets without a version take wheels for any macOS version', () => {
  const wheel = (tag: string) => parseDistFilename(`demo-1.0-cp311-cp311-${tag}.whl`);
  const arm: Target = { python: '3.11', platform: 'macosx_arm64' };
  const intel: Target = { python: '3.11', platform: 'macosx_x86_64' };
  assert.ok(wheelSupported(wheel('macosx_15_0_arm64'), arm));
  assert.ok(wheelSupported(wheel('macosx_10_9_universal2'), arm));
  assert.ok(!wheelSupported(wheel('macosx_10_9_x86_64'), arm));
  assert.ok(wheelSupported(wheel('macosx_10_9_x86_64'), intel));
  assert.ok(wheelSupported(wheel('macosx_15_0_x86_64'), intel));
  assert.ok(!wheelSupported(wheel('macosx_15_0_arm64'), intel));
  // pip never offers 11+ minor versions.
  assert.ok(!wheelSupported(wheel('macosx_11_3_arm64'), arm));
});

test('sdists are not wheels; free-threaded and explicit ABIs', () => {
  assert.ok(!wheelSupported(parseDistFilename('demo-1.0.tar.gz'), { python: '3.11', platform: 'linux_x86_64' }));
  const ft: Target = { python: '3.13', platform: 'linux_x86_64', abi: 'cp313t' };
  assert.ok(wheelSupported(parseDistFilename('demo-1.0-cp313-cp313t-manylinux_2_17_x86_64.whl'), ft));
  assert.ok(!wheelSupported(parseDistFilename('demo-1.0-cp313-cp313-manylinux_2_17_x86_64.whl'), ft));
  assert.ok(!wheelSupported(parseDistFilename('demo-1.0-cp39-abi3-manylinux_2_17_x86_64.whl'), ft));
  assert.ok(wheelSupported(parseDistFilename('demo-1.0-py3-none-any.whl'), ft));
});
