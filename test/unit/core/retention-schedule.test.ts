import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Repository } from '../../../src/core/model.ts';
import { aptFormat } from '../../../src/formats/apt/plugin.ts';
import { archFormat } from '../../../src/formats/arch/plugin.ts';
import { filesFormat } from '../../../src/formats/files/plugin.ts';
import { pypiFormat } from '../../../src/formats/pypi/plugin.ts';

const repo = (format: string, kind: Repository['kind'], options: Record<string, unknown>) => ({ id: 1, name: 'r', format, kind, publicRead: true, options }) as unknown as Repository;

test('the retention option schedules clean, the same way for all four formats; its policy round-trips through normalizeOptions', () => {
  for (const [plugin, retention] of [
    [pypiFormat, { keepVersions: 2, keepDays: 7, except: ['torch', 'x==1.0'], everyMinutes: 60 }],
    [filesFormat, { keepDays: 7, except: ['releases/**'], everyMinutes: 30 }],
    [aptFormat, { keepVersions: 3, everyMinutes: 1440 }],
    [archFormat, { keepVersions: 1, everyMinutes: 5 }],
  ] as const) {
    const options = plugin.normalizeOptions({ retention }, 'hosted');
    assert.deepEqual(options.retention, retention, plugin.format);
    // Normalizing what was stored gives it back (options are normalized again on every change).
    assert.deepEqual(plugin.normalizeOptions(options, 'hosted').retention, retention, plugin.format);
    const { everyMinutes, ...args } = retention;
    assert.deepEqual(plugin.schedule!(repo(plugin.format, 'hosted', options)), { action: 'clean', args, everyMinutes }, plugin.format);
    assert.ok(plugin.actions?.clean, plugin.format);
    assert.equal(plugin.schedule!(repo(plugin.format, 'hosted', {})), null);
  }
  assert.deepEqual(pypiFormat.normalizeOptions({ retention: { keepVersions: 1 } }, 'hosted').retention, { keepVersions: 1, everyMinutes: 1440 });
  // Not on proxies: their content is the upstream's (proxy caches have their own bounds).
  assert.throws(() => pypiFormat.normalizeOptions({ retention: { keepVersions: 1 } }, 'proxy'), /unknown option/);
  assert.throws(() => pypiFormat.normalizeOptions({ retention: { keepVersions: 1, except: ['bad name!'] } }, 'hosted'), /except/);
});
