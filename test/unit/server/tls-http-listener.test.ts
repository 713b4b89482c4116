// The plain HTTP listener (issue 9): answers ACME HTTP-01 challenges it holds, redirects
// everything else to HTTPS (or answers 404), and never echoes a Host that is not a name.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { HttpListener } from '../../../src/server/tls/http-listener.ts';

function get(port: number, path: string, host: string, method = 'GET'): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, method, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
    }).on('error', reject).end();
  });
}

describe('HttpListener', () => {
  const redirecting = new HttpListener({ redirectToPort: () => 8443, fallbackHost: 'pkg.example.org' });
  const plain = new HttpListener({ redirectToPort: null, fallbackHost: 'pkg.example.org' });
  before(async () => {
    await redirecting.listen('127.0.0.1', 0);
    await plain.listen('127.0.0.1', 0);
  });
  after(async () => {
    await redirecting.close();
    await plain.close();
  });

  it('answers a challenge it holds with the key authorization, and not once it is removed', async () => {
    plain.challenges.set('tok-1', 'tok-1.thumbprint');
    const r = await get(plain.port!, '/.well-known/acme-challenge/tok-1', 'pkg.example.org');
    assert.deepEqual([r.status, r.body], [200, 'tok-1.thumbprint']);
    plain.challenges.delete('tok-1');
    assert.equal((await get(plain.port!, '/.well-known/acme-challenge/tok-1', 'pkg.example.org')).status, 404);
    assert.equal((await get(plain.port!, '/pypi/simple/', 'pkg.example.org')).status, 404);
  });

  it('redirects other requests to the HTTPS port with 308, keeping path and query', async () => {
    redirecting.challenges.set('tok-2', 'tok-2.k');
    assert.equal((await get(redirecting.port!, '/.well-known/acme-challenge/tok-2', 'pkg.example.org')).body, 'tok-2.k');
    const r = await get(redirecting.port!, '/pypi/simple/x/?a=1', 'pkg.example.org:80', 'POST');
    assert.deepEqual([r.status, r.location], [308, 'https://pkg.example.org:8443/pypi/simple/x/?a=1']);
    // An unknown token is redirected like anything else.
    assert.equal((await get(redirecting.port!, '/.well-known/acme-challenge/nope', 'pkg.example.org')).status, 308);
  });

  it('does not echo a Host header that is not a host name', async () => {
    const r = await get(redirecting.port!, '/x', 'evil.example/"><script>');
    assert.equal(r.location, 'https://pkg.example.org:8443/x');
  });
});
