// Instants and snapshot names as `@<ref>` URLs and `wharf snapshot --at` spell them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidSnapshotName, normalizeHistoryDays, parseInstant } from '../../../src/core/time-travel.ts';

describe('time travel references', () => {
  it('reads instants in UTC, with an offset, or a bare date; refuses the rest', () => {
    assert.equal(parseInstant('2026-06-01T00:00:00Z'), '2026-06-01T00:00:00.000Z');
    assert.equal(parseInstant('2026-06-01'), '2026-06-01T00:00:00.000Z');
    assert.equal(parseInstant('2026-06-01T02:30:00+02:00'), '2026-06-01T00:30:00.000Z');
    assert.equal(parseInstant('2026-06-01T02:30:00+0200'), '2026-06-01T00:30:00.000Z');
    assert.equal(parseInstant('2026-06-01T00:00:00.25Z'), '2026-06-01T00:00:00.250Z');
    assert.equal(parseInstant('2026-06-01T00:00Z'), '2026-06-01T00:00:00.000Z');
    // No zone (each server would read another instant), impossible dates and times, names.
    for (const bad of ['2026-06-01T00:00:00', '2026-02-30', '2026-13-01', '2026-06-01T24:00:00Z', '2026-06-01T00:60:00Z', 'stable', '', '20260601']) {
      assert.equal(parseInstant(bad), null, bad);
    }
  });

  it('takes snapshot names that cannot be read as instants', () => {
    for (const ok of ['release-1.2', 'ci_2026', 'a']) assert.ok(isValidSnapshotName(ok), ok);
    for (const bad of ['2026-06-01', '-x', 'a/b', 'a b', '', 'x'.repeat(65), '.hidden']) assert.equal(isValidSnapshotName(bad), false, bad);
  });

  it('checks historyDays', () => {
    assert.equal(normalizeHistoryDays(undefined), undefined);
    assert.equal(normalizeHistoryDays(0), 0);
    assert.equal(normalizeHistoryDays(90), 90);
    for (const bad of [-1, 1.5, '30', 100_000]) assert.throws(() => normalizeHistoryDays(bad), /historyDays/);
  });
});
