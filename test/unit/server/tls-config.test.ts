// The TLS and ACME options (issue 9): read from the file, the environment and flags, and
// refused in one line when they cannot work together.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, LETS_ENCRYPT, loadConfig } from '../../../src/server/config.ts';

const refused = (sources: Parameters<typeof loadConfig>[0], re: RegExp) =>
  assert.throws(() => loadConfig(sources), (e: Error) => e instanceof ConfigError && re.test(e.message), `expected ${re}`);

describe('TLS options', () => {
  it('is plain HTTP by default, with Let\'s Encrypt as the ACME directory', () => {
    const c = loadConfig({ env: {} });
    assert.equal(c.tlsCert, undefined);
    assert.deepEqual(c.acmeDomains, []);
    assert.equal(c.acmeDirectory, LETS_ENCRYPT);
    assert.equal(c.httpPort, undefined);
    assert.equal(c.httpRedirect, false);
  });

  it('reads certificate files from the file (relative to it), the environment and flags', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wharf-tlscfg-'));
    const file = join(dir, 'w.json');
    await writeFile(file, JSON.stringify({ tlsCert: 'c.pem', tlsKey: 'k.pem', httpPort: 8081, httpRedirect: true }));
    const c = loadConfig({ env: {}, flags: { config: file } });
    assert.equal(c.tlsCert, join(dir, 'c.pem'));
    assert.equal(c.tlsKey, join(dir, 'k.pem'));
    assert.equal(c.httpPort, 8081);
    assert.equal(c.httpRedirect, true);
    const e = loadConfig({ env: { WHARF_TLS_CERT: '/etc/c.pem', WHARF_TLS_KEY: '/etc/k.pem', WHARF_HTTP_REDIRECT: '1' } });
    assert.deepEqual([e.tlsCert, e.tlsKey, e.httpRedirect, e.httpPort], ['/etc/c.pem', '/etc/k.pem', true, 80]);
    const f = loadConfig({ env: { WHARF_TLS_CERT: '/etc/c.pem', WHARF_TLS_KEY: '/etc/k.pem' }, flags: { tlsCert: '/x/c.pem' } });
    assert.equal(f.tlsCert, '/x/c.pem');
    assert.equal(f.httpPort, undefined, 'no plain HTTP port unless ACME or the redirect needs it');
  });

  it('reads ACME names as a repeated flag, a comma list or a JSON list, and defaults the HTTP-01 port to 80', () => {
    const c = loadConfig({ env: {}, flags: { acmeDomain: ['pkg.example.org', 'a.example.org,B.example.org.'], acmeEmail: 'ops@example.org', acmeDirectory: 'letsencrypt-staging', acmeRenewBefore: '30' } });
    assert.deepEqual(c.acmeDomains, ['pkg.example.org', 'a.example.org', 'b.example.org']);
    assert.equal(c.acmeDirectory, 'https://acme-staging-v02.api.letsencrypt.org/directory');
    assert.equal(c.acmeRenewBefore, 30);
    assert.equal(c.httpPort, 80);
    const e = loadConfig({ env: { WHARF_ACME_DOMAIN: 'x.example.org', WHARF_ACME_DIRECTORY: 'https://127.0.0.1:14000/dir', WHARF_HTTP_PORT: '5002' } });
    assert.deepEqual([e.acmeDomains, e.acmeDirectory, e.httpPort], [['x.example.org'], 'https://127.0.0.1:14000/dir', 5002]);
  });

  it('refuses combinations and values that cannot work, naming the option', () => {
    refused({ env: {}, flags: { tlsCert: '/c.pem' } }, /^--tls-cert needs --tls-key/);
    refused({ env: { WHARF_TLS_KEY: '/k.pem' } }, /^--tls-key needs --tls-cert/);
    refused({ env: {}, flags: { tlsCert: '/c', tlsKey: '/k', acmeDomain: ['a.example.org'] } }, /exclude each other/);
    refused({ env: {}, flags: { acmeDomain: ['*.example.org'] } }, /wildcard names need the DNS-01 challenge/);
    refused({ env: {}, flags: { acmeDomain: ['10.0.0.1'] } }, /"10\.0\.0\.1" is not a DNS name/);
    refused({ env: {}, flags: { acmeDomain: ['bad_name.org'] } }, /is not a DNS name/);
    refused({ env: {}, flags: { acmeDomain: ['a.org'], acmeEmail: 'nobody' } }, /--acme-email: "nobody" is not an e-mail address/);
    refused({ env: {}, flags: { acmeDirectory: 'http://ca.example/dir' } }, /must be an https:\/\/ URL/);
    refused({ env: {}, flags: { httpRedirect: true } }, /--http-redirect needs HTTPS/);
    refused({ env: {}, flags: { acmeDomain: ['a.org'], port: '8443', httpPort: '8443' } }, /--http-port 8443 is the HTTPS port/);
    refused({ env: { WHARF_HTTP_PORT: '70000' } }, /WHARF_HTTP_PORT must be a port number/);
  });
});
