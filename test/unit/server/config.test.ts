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
  it('reads the in-process cache budgets (MiB) from the file and the environment', async () => {
    const d = loadConfig({ env: {} });
    assert.deepEqual([d.indexCacheMiB, d.responseCacheMiB, d.upstreamCacheMiB], [64, 32, 128]);
    const dir = await mkdtemp(join(tmpdir(), 'wharf-cfg-'));
    const file = join(dir, 'wharf.json');
    await writeFile(file, JSON.stringify({ indexCacheMiB: 16, upstreamCacheMiB: 8 }));
    const c = loadConfig({ env: { WHARF_CONFIG: file, WHARF_RESPONSE_CACHE_MIB: '4', WHARF_UPSTREAM_CACHE_MIB: '2' } });
    assert.deepEqual([c.indexCacheMiB, c.responseCacheMiB, c.upstreamCacheMiB], [16, 4, 2]);
    assert.throws(() => loadConfig({ env: { WHARF_INDEX_CACHE_MIB: 'lots' } }), ConfigError);
  });
  it('reads the browser session lifetimes from the file and the environment', async () => {
    assert.deepEqual([loadConfig({ env: {} }).sessionIdleTimeout, loadConfig({ env: {} }).sessionMaxAge], [43200, 604800]);
    const dir = await mkdtemp(join(tmpdir(), 'wharf-cfg-'));
    const file = join(dir, 'wharf.json');
    await writeFile(file, JSON.stringify({ sessionIdleTimeout: 600, sessionMaxAge: 3600 }));
    const c = loadConfig({ env: { WHARF_CONFIG: file, WHARF_SESSION_MAX_AGE: '7200' } });
    assert.deepEqual([c.sessionIdleTimeout, c.sessionMaxAge], [600, 7200]);
    assert.throws(() => loadConfig({ env: { WHARF_SESSION_IDLE_TIMEOUT: 'soon' } }), ConfigError);
  });
  it('reads the static tree\'s directory from the file (relative to it), the environment and --static-dir; off by default', async () => {
    assert.equal(loadConfig({ env: {} }).staticDir, undefined);
    const dir = await mkdtemp(join(tmpdir(), 'wharf-cfg-'));
    const file = join(dir, 'wharf.json');
    await writeFile(file, JSON.stringify({ staticDir: 'tree' }));
    assert.equal(loadConfig({ env: { WHARF_CONFIG: file } }).staticDir, join(dir, 'tree'));
    assert.equal(loadConfig({ env: { WHARF_CONFIG: file, WHARF_STATIC_DIR: '/srv/env-tree' } }).staticDir, '/srv/env-tree');
    assert.equal(loadConfig({ env: { WHARF_STATIC_DIR: '/srv/env-tree' }, flags: { staticDir: 'flag-tree' } }).staticDir, join(process.cwd(), 'flag-tree'));
  });
  it('reads --workers from the file, the environment and the flag; one by default; more only on PostgreSQL and without ACME', async () => {
    const pg = 'postgres://wharf@127.0.0.1/wharf';
    assert.equal(loadConfig({ env: {} }).workers, 1);
    const dir = await mkdtemp(join(tmpdir(), 'wharf-cfg-'));
    const file = join(dir, 'wharf.json');
    await writeFile(file, JSON.stringify({ workers: 3, database: pg }));
    assert.equal(loadConfig({ env: { WHARF_CONFIG: file } }).workers, 3);
    assert.equal(loadConfig({ env: { WHARF_CONFIG: file, WHARF_WORKERS: '2' } }).workers, 2);
    assert.equal(loadConfig({ env: { WHARF_CONFIG: file, WHARF_WORKERS: '2' }, flags: { workers: '4' } }).workers, 4);
    assert.ok(loadConfig({ env: { WHARF_DATABASE_URL: pg }, flags: { workers: 'auto' } }).workers >= 1);
    // One worker is one process: fine on SQLite.
    assert.equal(loadConfig({ env: {}, flags: { workers: '1' } }).workers, 1);
    for (const bad of ['0', '-1', '1.5', 'two', '65']) assert.throws(() => loadConfig({ env: { WHARF_DATABASE_URL: pg }, flags: { workers: bad } }), (e: Error) => e instanceof ConfigError && /--workers must be a whole number from 1 to 64, or auto/.test(e.message), bad);
    assert.throws(() => loadConfig({ env: {}, flags: { workers: '2' } }), (e: Error) => e instanceof ConfigError && /needs PostgreSQL/.test(e.message) && /local to one process/.test(e.message) && /static tree/.test(e.message));
    assert.throws(() => loadConfig({ env: { WHARF_DATABASE_URL: pg }, flags: { workers: '2', acmeDomain: ['pkg.example.org'] } }), (e: Error) => e instanceof ConfigError && /--acme-domain exclude each other/.test(e.message) && /--tls-cert/.test(e.message));
  });
  it('reads the S3 blob store from the file, the environment and --blobs; files on disk by default', async () => {
    const none = loadConfig({ env: {} });
    assert.equal(none.blobs, undefined);
    assert.equal(none.s3ForcePathStyle, false);
    const dir = await mkdtemp(join(tmpdir(), 'wharf-cfg-'));
    const file = join(dir, 'wharf.json');
    await writeFile(file, JSON.stringify({ blobs: 's3://from-file/a', s3Endpoint: 'http://127.0.0.1:9000', s3ForcePathStyle: true }));
    const c = loadConfig({
      env: { WHARF_CONFIG: file, WHARF_BLOBS: 's3://from-env/b', WHARF_S3_REGION: 'eu-west-3', WHARF_S3_ACCESS_KEY_ID: 'AK', WHARF_S3_SECRET_ACCESS_KEY: 'SK' },
      flags: { blobs: 's3://from-flag/c/' },
    });
    assert.deepEqual([c.blobs, c.s3Endpoint, c.s3Region, c.s3ForcePathStyle, c.s3AccessKeyId, c.s3SecretAccessKey], ['s3://from-flag/c/', 'http://127.0.0.1:9000', 'eu-west-3', true, 'AK', 'SK']);
    assert.equal(loadConfig({ env: { WHARF_CONFIG: file, WHARF_BLOBS: '' } }).blobs, undefined, 'an empty WHARF_BLOBS means files on disk');
    assert.throws(() => loadConfig({ env: {}, flags: { blobs: '/srv/blobs' } }), /--blobs: "\/srv\/blobs" is not s3:\/\/BUCKET or s3:\/\/BUCKET\/PREFIX \(blobs on disk need no setting/);
    assert.throws(() => loadConfig({ env: { WHARF_S3_ENDPOINT: 'minio:9000' } }), /WHARF_S3_ENDPOINT must be an http:\/\/ or https:\/\/ URL/);
    assert.throws(() => loadConfig({ env: { WHARF_S3_ACCESS_KEY_ID: 'AK' } }), /go together/);
    assert.equal(none.s3PresignSeconds, 0);
    assert.equal(loadConfig({ env: { WHARF_S3_PRESIGN_SECONDS: '300' } }).s3PresignSeconds, 300);
    for (const bad of ['abc', '-1', '1.5', '604801']) {
      assert.throws(() => loadConfig({ env: { WHARF_S3_PRESIGN_SECONDS: bad } }), /WHARF_S3_PRESIGN_SECONDS: expected whole seconds from 0 \(off\) to 604800/, bad);
    }
  });
  it('refuses unknown options and bad values clearly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wharf-cfg-'));
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ prot: 1 }));
    assert.throws(() => loadConfig({ env: {}, flags: { config: file } }), (e: Error) => e instanceof ConfigError && /unknown option "prot"/.test(e.message));
    assert.throws(() => loadConfig({ env: { WHARF_PORT: 'eighty' } }), ConfigError);
    assert.throws(() => loadConfig({ env: {}, flags: { config: join(dir, 'missing.json') } }), ConfigError);
  });
  it('reads trusted proxies from the file, the environment and flags, and refuses what is not an address', async () => {
    assert.deepEqual(loadConfig({ env: {} }).trustedProxies, []);
    const dir = await mkdtemp(join(tmpdir(), 'wharf-cfg-'));
    const file = join(dir, 'p.json');
    await writeFile(file, JSON.stringify({ trustedProxies: ['10.0.0.0/8', '::1'] }));
    assert.deepEqual(loadConfig({ env: {}, flags: { config: file } }).trustedProxies, ['10.0.0.0/8', '::1']);
    assert.deepEqual(loadConfig({ env: { WHARF_CONFIG: file, WHARF_TRUSTED_PROXIES: '127.0.0.1, 192.168.1.0/24' } }).trustedProxies, ['127.0.0.1', '192.168.1.0/24']);
    assert.deepEqual(loadConfig({ env: {}, flags: { trustedProxies: 'fd00::/8' } }).trustedProxies, ['fd00::/8']);
    for (const bad of ['proxy.example', '10.0.0.0/33', '10.0.0.1/8/1', '*']) {
      assert.throws(() => loadConfig({ env: { WHARF_TRUSTED_PROXIES: bad } }), ConfigError, bad);
    }
  });

  it('refuses a bad repository entry with its JSON path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wharf-cfg-'));
    const refused = async (repositories: unknown[], re: RegExp) => {
      const file = join(dir, 'r.json');
      await writeFile(file, JSON.stringify({ repositories }));
      assert.throws(() => loadConfig({ env: {}, flags: { config: file } }), (e: Error) => e instanceof ConfigError && re.test(e.message) && e.message.includes(file), String(re));
    };
    const ok = { name: 'a', format: 'pypi' };
    await refused([ok, ok, { name: 'c', format: 'pypi', optons: {} }], /repositories\[2\]\.optons: unknown key; known: name, format, kind, public, options/);
    await refused([{ name: 'c', format: 'pipy' }], /repositories\[0\]\.format: unknown format "pipy"; known: pypi, files, arch, apt/);
    await refused([ok, { name: 'c', format: 'pypi', kind: 'mirror' }], /repositories\[1\]\.kind: unknown kind "mirror"; known: hosted, proxy, group/);
    await refused([{ name: 'c', format: 'pypi', public: 'yes' }], /repositories\[0\]\.public must be true or false/);
    await refused([{ name: 'c', format: 'pypi', options: [] }], /repositories\[0\]\.options must be an object/);
    await refused([{ format: 'pypi' }], /repositories\[0\]\.name is missing/);
    await refused(['pypi'], /repositories\[0\] must be an object/);
  });
  it('reads the log format and refuses unknown log levels and formats', () => {
    assert.equal(loadConfig({ env: {} }).logFormat, 'auto');
    assert.equal(loadConfig({ env: { WHARF_LOG_FORMAT: 'json' } }).logFormat, 'json');
    assert.equal(loadConfig({ env: { WHARF_LOG_FORMAT: 'json' }, flags: { logFormat: 'pretty' } }).logFormat, 'pretty');
    assert.throws(() => loadConfig({ env: {}, flags: { logFormat: 'xml' } }), /--log-format must be one of auto, json, pretty, not "xml"/);
    assert.throws(() => loadConfig({ env: { WHARF_LOG_LEVEL: 'loud' } }), /WHARF_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/);
  });
});
