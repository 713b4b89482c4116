import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cooldownOf, cooldownsFor, normalizeCooldownOptions, parseDuration, strictest, tooYoung, visibleFrom } from '../../../src/core/cooldown.ts';
import { coolFiles, coolJsonApi } from '../../../src/formats/pypi/cooldown.ts';
import { normalizeName } from '../../../src/formats/pypi/names.ts';

const H = 3_600_000;

describe('cooldown options', () => {
  it('reads durations in s, m, h, d, w and their sums', () => {
    assert.equal(parseDuration('7d'), 7 * 24 * H);
    assert.equal(parseDuration('36h'), 36 * H);
    assert.equal(parseDuration('1d12h'), 36 * H);
    assert.equal(parseDuration('2W'), 14 * 24 * H);
    assert.equal(parseDuration('90m'), 1.5 * H);
    for (const bad of ['', '7', 'd', '7 d', '7days', '-1d', '1.5d', '7x', '1d 2h']) assert.equal(parseDuration(bad), null, bad);
  });

  it('keeps a valid minAge and exemptions, drops "0" and absent, refuses the rest with a 400', () => {
    assert.deepEqual(normalizeCooldownOptions({ minAge: ' 7D ', minAgeExempt: ['a', ' B '] }), { minAge: '7d', minAgeExempt: ['a', 'B'] });
    assert.deepEqual(normalizeCooldownOptions({ minAge: '0' }), {});
    assert.deepEqual(normalizeCooldownOptions({ minAge: null }), {});
    assert.deepEqual(normalizeCooldownOptions({}), {});
    for (const minAge of [7, '0d', '3651d', 'soon', true, []]) {
      assert.throws(() => normalizeCooldownOptions({ minAge }), (e: { status?: number; message: string }) => e.status === 400 && /minAge must be a duration/.test(e.message), String(minAge));
    }
    for (const minAgeExempt of ['a', [1], [''], {}]) assert.throws(() => normalizeCooldownOptions({ minAgeExempt }), /minAgeExempt must be a list/);
  });

  it('applies to proxies and groups, not hosted repositories; exemptions compare by the format\'s name rule', () => {
    const opts = { minAge: '7d', minAgeExempt: ['Foo_Bar'] };
    assert.equal(cooldownOf({ name: 'h', kind: 'hosted', options: opts }), null);
    const p = cooldownOf({ name: 'p', kind: 'proxy', options: opts })!;
    assert.equal(p.repo, 'p');
    assert.deepEqual(cooldownsFor([p], 'foo-bar', normalizeName), []);
    assert.deepEqual(cooldownsFor([p], 'foo-bar'), [p], 'compared as given without a rule');
    const g = cooldownOf({ name: 'g', kind: 'group', options: { minAge: '36h' } })!;
    assert.equal(strictest(cooldownsFor([g, p], 'other', normalizeName)), p);
    assert.equal(strictest(cooldownsFor([g, p], 'foo-bar', normalizeName)), g, 'the proxy\'s exemption leaves the group\'s cooldown');
  });

  it('a file is too young until its time plus minAge; a file without a time is taken as seen now', () => {
    const c = cooldownOf({ name: 'p', kind: 'proxy', options: { minAge: '1d' } })!;
    const now = Date.parse('2026-06-10T00:00:00Z');
    assert.equal(tooYoung(c, '2026-06-08T23:59:59Z', now), false);
    assert.equal(tooYoung(c, '2026-06-09T00:00:01Z', now), true);
    assert.equal(tooYoung(c, null, now), true);
    assert.equal(tooYoung(null, null, now), false);
    assert.equal(visibleFrom(c, '2026-06-09T12:00:00Z', now), Date.parse('2026-06-10T12:00:00Z'));
    const cooled = coolFiles([{ t: '2026-06-01T00:00:00Z' }, { t: '2026-06-09T12:00:00Z' }, { t: '2026-06-09T06:00:00Z' }], c, (f) => f.t, now);
    assert.deepEqual(cooled.files, [{ t: '2026-06-01T00:00:00Z' }]);
    assert.equal(cooled.hidden, 2);
    assert.equal(cooled.nextVisible, Date.parse('2026-06-10T06:00:00Z'));
  });

  it('filters PyPI\'s JSON API by its own times, else the page\'s, and drops emptied releases', () => {
    const c = cooldownOf({ name: 'p', kind: 'proxy', options: { minAge: '1d' } })!;
    const now = Date.parse('2026-06-10T00:00:00Z');
    const doc = {
      urls: [{ filename: 'b-2.whl' }],
      releases: { '1': [{ filename: 'b-1.whl', upload_time: '2026-01-01T00:00:00' }], '2': [{ filename: 'b-2.whl' }], '3': [] },
    };
    coolJsonApi(doc, c, new Map([['b-2.whl', '2026-06-09T18:00:00Z']]), now);
    assert.deepEqual(doc, { urls: [], releases: { '1': [{ filename: 'b-1.whl', upload_time: '2026-01-01T00:00:00' }], '3': [] } });
  });
});
