import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/server/config.ts';

describe('loadConfig', () => {
  it('has the embedded defaults', () => {
    const c = loadConfig({ env: {} });
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 8080);
    assert.equal(c.data, join(process.cwd(), 'wharf-data'));
  });
  it('layers file < environment < flags', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wharf-cfg-'));
    const file = join(dir, 'wharf.json');
    await writeFile(file, JSON.stringify({ port: 9000, host: '127.0.0.2', data: 'd', repositories: [{ name: 'x', format: 'pypi' }] }));
    const c = loadConfig({ env: { WHARF_CONFIG: file, WHARF_PORT: '9100' }, flags: { host: '127.0.0.3' } });
    assert.equal(c.port, 9100);
    assert.equal(c.host, '127.0.0.3');
    assert.equal(c.data, join(dir, 'd'), 'relative to the config file');
    assert.deepEqual(c.repositories, [{ name: 'x', format: 'pypi' }]);
  });
  it('refuses unknown options and bad values clearly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wharf-cfg-'));
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ prot: 1 }));
    assert.throws(() => loadConfig({ env: {}, flags: { config: file } }), (e: Error) => e instanceof ConfigError && /unknown option "prot"/.test(e.message));
    assert.throws(() => loadConfig({ env: { WHARF_PORT: 'eighty' } }), ConfigError);
    assert.throws(() => loadConfig({ env: {}, flags: { config: join(dir, 'missing.json') } }), ConfigError);
  });
});
