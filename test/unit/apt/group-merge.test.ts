import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { groupSuiteFiles, mergeSuite, packagesOfRelease } from '../../../src/formats/apt/group-merge.ts';
import { parseStanzas } from '../../../src/formats/apt/control.ts';

const stanza = (pkg: string, version: string, arch = 'amd64') =>
  `Package: ${pkg}\nVersion: ${version}\nArchitecture: ${arch}\nFilename: pool/main/${pkg[0]}/${pkg}/${pkg}_${version}_${arch}.deb\nSHA256: ${'0'.repeat(64)}\n`;
const idx = (...s: string[]) => new Map([['main/binary-amd64', s.join('\n')]]);
const names = (text: string) => parseStanzas(text).map((s) => `${s.get('Package')}=${s.get('Version')}`);

describe('APT group merge', () => {
  it('a hosted name hides the same name in later proxies, not in earlier ones', () => {
    const m = mergeSuite([
      { name: 'early', kind: 'proxy', indexes: idx(stanza('tool', '0.5')) },
      { name: 'in', kind: 'hosted', indexes: idx(stanza('tool', '1.0'), stanza('own', '1')) },
      { name: 'up', kind: 'proxy', indexes: idx(stanza('tool', '9.0'), stanza('lib', '2')) },
    ], new Set());
    assert.deepEqual(names(m.indexes.get('main/binary-amd64')!), ['tool=0.5', 'tool=1.0', 'own=1', 'lib=2']);
    assert.equal(m.hidden, 1);
    assert.equal(m.owners.get('pool/main/l/lib/lib_2_amd64.deb'), 'up');
    assert.equal(m.owners.get('pool/main/t/tool/tool_1.0_amd64.deb'), 'in');
  });

  it('copies stanzas as written: continuation lines, blank-dot lines, field case, extra blank lines', () => {
    const a = `${stanza('a', '1').replace('Description', 'Description: multi\n line one\n .\n line three\nX-Description')}`;
    const b = stanza('b', '2').replace('Package:', 'package:');
    const m = mergeSuite([{ name: 'p', kind: 'proxy', indexes: new Map([['main/binary-amd64', `\n${a}\n\n \n${b}\n`]]) }], new Set());
    assert.equal(m.indexes.get('main/binary-amd64'), `${a}\n${b}`);
    assert.deepEqual(names(m.indexes.get('main/binary-amd64')!), ['a=1', 'b=2']);
  });

  it('an allow-listed name is merged; the first member keeps a duplicate', () => {
    const m = mergeSuite([
      { name: 'in', kind: 'hosted', indexes: idx(stanza('tool', '1.0')) },
      { name: 'up', kind: 'proxy', indexes: idx(stanza('tool', '9.0'), stanza('tool', '1.0')) },
    ], new Set(['tool']));
    assert.deepEqual(names(m.indexes.get('main/binary-amd64')!), ['tool=1.0', 'tool=9.0']);
    assert.equal(m.owners.get('pool/main/t/tool/tool_1.0_amd64.deb'), 'in');
  });

  it('guards by every name a hosted member has, not only those in this suite', () => {
    const m = mergeSuite([
      { name: 'in', kind: 'hosted', indexes: new Map(), guards: new Set(['secret']) },
      { name: 'up', kind: 'proxy', indexes: idx(stanza('secret', '9'), stanza('lib', '1')) },
    ], new Set());
    assert.deepEqual(names(m.indexes.get('main/binary-amd64')!), ['lib=1']);
  });

  it("a proxy's stanza younger than its cooldown is left out, unless exempt; hosted ones never", () => {
    const now = Date.parse('2026-06-10T00:00:00Z');
    const day = 86_400_000;
    const cooldown = { minAgeMs: 7 * day, minAge: '7d', exempt: ['urgent'], repo: 'p' };
    const firstSeen = new Map([
      ['pool/main/o/old/old_1_amd64.deb', now - 30 * day],
      ['pool/main/y/young/young_1_amd64.deb', now - 2 * day],
      ['pool/main/u/urgent/urgent_1_amd64.deb', now],
    ]);
    const m = mergeSuite([
      { name: 'in', kind: 'hosted', indexes: idx(stanza('mine', '1')) },
      { name: 'p', kind: 'proxy', indexes: idx(stanza('old', '1'), stanza('young', '1'), stanza('urgent', '1'), stanza('unseen', '1')), cooldowns: [cooldown], firstSeen },
    ], new Set(), now);
    assert.deepEqual(names(m.indexes.get('main/binary-amd64')!), ['mine=1', 'old=1', 'urgent=1']);
    assert.equal(m.young, 2);
    // young shows in 5 days; unseen (taken as seen now) in 7.
    assert.equal(m.nextVisible, now + 5 * day);
  });

  it('lists every merged index by name and by hash in a Release with Acquire-By-Hash', () => {
    const { release, files } = groupSuiteFiles({ suite: 'stable', codename: 'stable', origin: 'g', label: 'g', date: new Date('2026-01-01T00:00:00Z'), indexes: new Map([['main/binary-amd64', stanza('a', '1')]]) });
    assert.match(release, /^Acquire-By-Hash: yes$/m);
    assert.match(release, /^Components: main$/m);
    const gz = files.get('main/binary-amd64/Packages.gz')!;
    assert.equal(gunzipSync(gz).toString(), stanza('a', '1'));
    const sha512 = /^ ([0-9a-f]{128}) +\d+ main\/binary-amd64\/Packages\.gz$/m.exec(release)![1];
    assert.equal(files.get(`main/binary-amd64/by-hash/SHA512/${sha512}`), gz);
  });

  it('reads the Packages variants a Release lists, refusing paths that climb', () => {
    const h = 'a'.repeat(64);
    const rel = `Origin: x\nSuite: s\nSHA256:\n ${h} 10 main/binary-amd64/Packages.xz\n ${h} 10 main/binary-amd64/Packages.gz\n ${h} 10 main/binary-amd64/Packages\n ${h} 10 ../x/binary-amd64/Packages\n ${h} 10 main/debian-installer/binary-amd64/Packages\n`;
    assert.deepEqual([...packagesOfRelease(rel)], [['main/binary-amd64', { path: 'main/binary-amd64/Packages.gz', sha256: h }]]);
  });
});
