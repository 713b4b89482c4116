import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeDbs, type MemberDb } from '../../../src/formats/arch/group-merge.ts';

const desc = (name: string, version: string) => `%FILENAME%\n${name}-${version}-x86_64.pkg.tar.zst\n\n%NAME%\n${name}\n\n%VERSION%\n${version}\n\n`;
const db = (member: string, kind: 'hosted' | 'proxy', ...pkgs: [string, string][]): MemberDb =>
  ({ name: member, kind, entries: new Map(pkgs.map(([n, v]) => [`${n}-${v}`, { desc: desc(n, v) }])) });
const listed = (m: ReturnType<typeof mergeDbs>) => m.entries.map((e) => e.name).sort();

describe('Arch group merge', () => {
  it('one version per name: the first member that has it; a hosted name hides later proxies', () => {
    const m = mergeDbs([db('up0', 'proxy', ['tool', '0.5-1']), db('in', 'hosted', ['tool', '1.0-1'], ['own', '1-1']), db('up', 'proxy', ['tool', '9.0-1'], ['lib', '2-1'], ['own', '3-1'])], new Set());
    assert.deepEqual(listed(m), ['lib-2-1', 'own-1-1', 'tool-0.5-1']);
    assert.equal(m.hidden, 2);
    assert.equal(m.owners.get('lib-2-1-x86_64.pkg.tar.zst'), 'up');
  });

  it('an allow-listed name comes from the member with the newest version (vercmp)', () => {
    const m = mergeDbs([db('in', 'hosted', ['tool', '1.10-1']), db('up', 'proxy', ['tool', '1.9-1'])], new Set(['tool']));
    assert.deepEqual(listed(m), ['tool-1.10-1']);
    const n = mergeDbs([db('in', 'hosted', ['tool', '1.0-1']), db('up', 'proxy', ['tool', '1:0.1-1'])], new Set(['tool']));
    assert.deepEqual(listed(n), ['tool-1:0.1-1']);
    assert.equal(n.owners.get('tool-1:0.1-1-x86_64.pkg.tar.zst'), 'up');
  });

  it('guards by every name a hosted member has', () => {
    const m = mergeDbs([{ ...db('in', 'hosted'), guards: new Set(['secret']) }, db('up', 'proxy', ['secret', '9-1'], ['lib', '1-1'])], new Set());
    assert.deepEqual(listed(m), ['lib-1-1']);
  });

  it("a proxy's entry younger than its cooldown is left out, unless exempt", () => {
    const now = Date.parse('2026-06-10T00:00:00Z');
    const day = 86_400_000;
    const cooldown = { minAgeMs: 7 * day, minAge: '7d', exempt: ['urgent'], repo: 'p' };
    const firstSeen = new Map([['old-1-1-x86_64.pkg.tar.zst', now - 30 * day], ['young-1-1-x86_64.pkg.tar.zst', now - 1 * day]]);
    const m = mergeDbs([
      db('in', 'hosted', ['mine', '1-1']),
      { ...db('p', 'proxy', ['old', '1-1'], ['young', '1-1'], ['urgent', '1-1']), cooldowns: [cooldown], firstSeen },
    ], new Set(), now);
    assert.deepEqual(listed(m), ['mine-1-1', 'old-1-1', 'urgent-1-1']);
    assert.equal(m.young, 1);
    assert.equal(m.nextVisible, now + 6 * day);
  });
});
