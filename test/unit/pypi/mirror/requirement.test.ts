import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWharfError } from '../../../../src/core/errors.ts';
import { environmentFor, evaluateMarker } from '../../../../src/formats/pypi/mirror/markers.ts';
import { formatRequirement, parseRequirement } from '../../../../src/formats/pypi/mirror/requirement.ts';
import { oracleAvailable, runPython, skipReason } from './oracle.ts';

test('name, extras, specifier and marker', () => {
  const r = parseRequirement('Requests[Security, socks] (>=2.8.1, ==2.8.*) ; python_version < "2.7"');
  assert.equal(r.name, 'Requests');
  assert.equal(r.normalizedName, 'requests');
  assert.deepEqual(r.extras, ['security', 'socks']);
  assert.equal(r.specifier, '>=2.8.1,==2.8.*');
  assert.ok(r.marker);
  assert.equal(r.url, undefined);
  assert.equal(evaluateMarker(r.marker, environmentFor({ python: '3.11', platform: 'linux_x86_64' })), false);
  assert.equal(formatRequirement(r), 'Requests[security,socks]>=2.8.1,==2.8.*; python_version < "2.7"');

  assert.deepEqual(parseRequirement('zope.interface'), {
    name: 'zope.interface', normalizedName: 'zope-interface', extras: [], specifier: '', marker: null,
  });
  assert.equal(parseRequirement('foo>=1.0;os_name=="nt"').specifier, '>=1.0');
  assert.equal(parseRequirement('foo;os_name=="nt"').specifier, '');
  assert.deepEqual(parseRequirement('foo[]').extras, []);
  assert.deepEqual(parseRequirement('foo[B_ar,b-ar]').extras, ['b-ar']);
});

test('a direct URL reference is returned with its URL so the caller can report it', () => {
  const r = parseRequirement('pip @ https://github.com/pypa/pip/archive/22.0.2.zip ; python_version >= "3"');
  assert.equal(r.url, 'https://github.com/pypa/pip/archive/22.0.2.zip');
  assert.equal(r.specifier, '');
  assert.ok(r.marker);
  // Without a space the `;` belongs to the URL.
  assert.equal(parseRequirement('name@http://x.org/a;b').url, 'http://x.org/a;b');
});

test('invalid requirements are bad requests with a reason', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['-foo', /project name/],
    ['foo[bar', /missing "\]"/],
    ['foo[b ar]', /invalid extra name/],
    ['foo >= 1.0 <2', /invalid version specifier/],
    ['foo (>=1.0', /missing "\)"/],
    ['foo bar', /unexpected "bar"/],
    ['foo ; ', /empty marker/],
    ['foo ; python_version', /comparison operator/],
    ['foo @ ', /URL/],
    ['foo @ not-a-url', /not a URL/],
    ['foo @ http://x y', /after the URL/],
    ['foo==1.0.*.*', /invalid version specifier/],
    // packaging 21.3 still took these as LegacySpecifier; packaging 22+ refuses them too.
    ['foo>=1.0.*', /only follows a release number/],
    ['foo>=1.0-foo', /not a PEP 440 version/],
    ['foo>=', /invalid version specifier ">="$/],
  ];
  for (const [text, why] of cases) {
    assert.throws(() => parseRequirement(text), (e) => isWharfError(e) && e.code === 'BAD_REQUEST' && why.test(e.message), text);
  }
});

const TABLE = [
  'requests', 'requests>=2', 'requests [socks] >=2.0,<3', 'A.B-C_D[x_y]==1.0', 'foo (==1.0)', 'foo~=1.4.2',
  'foo!=1.5.*,>=1', 'foo===weird', 'foo; python_version>"3.6"', 'foo[a,b]; extra == "c"', 'foo @ https://e.org/f.whl',
  'foo>=1.0; (os_name=="nt" or sys_platform=="darwin") and python_version<"3.12"', 'foo==1.0+local',
  'foo >=1.0 ,<2', 'foo[', 'foo~=1', 'foo; bogus == "1"', '1foo', 'foo-', 'foo==1.0 bar',
];

test('parsing agrees with packaging.requirements on a table', { skip: !oracleAvailable() && skipReason }, () => {
  const expected = runPython<({ name: string; extras: string[]; specifier: string[]; marker: boolean; url: string | null } | null)[]>(`
import json, sys
from pip._vendor.packaging.requirements import Requirement, InvalidRequirement
from pip._vendor.packaging.utils import canonicalize_name
out = []
for line in json.load(sys.stdin):
    try:
        r = Requirement(line)
    except InvalidRequirement:
        out.append(None); continue
    out.append({'name': r.name, 'extras': sorted({canonicalize_name(e) for e in r.extras}),
                'specifier': sorted(str(s) for s in r.specifier), 'marker': r.marker is not None, 'url': r.url})
print(json.dumps(out))
`, TABLE);
  TABLE.forEach((line, i) => {
    const want = expected[i];
    if (want === null) {
      assert.throws(() => parseRequirement(line), (e) => isWharfError(e), line);
      return;
    }
    const r = parseRequirement(line);
    assert.deepEqual({
      name: r.name, extras: r.extras, specifier: r.specifier === '' ? [] : r.specifier.split(',').sort(),
      marker: r.marker !== null, url: r.url ?? null,
    }, want, line);
  });
});
