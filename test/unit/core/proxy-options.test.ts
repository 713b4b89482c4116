// Proxy options: the timeouts and the breaker, their defaults (also for repositories created
// before they existed), and the digests an upstream may announce.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeProxyOptions, proxyOptionsOf } from '../../../src/core/proxy/options.ts';
import { announcedSha256 } from '../../../src/core/proxy/upstream.ts';

test('idleTimeout defaults to timeout; the breaker has defaults and can be turned off', () => {
  const o = normalizeProxyOptions({ upstream: 'https://up.example/x', timeout: 5 });
  assert.equal(o.upstream, 'https://up.example/x/');
  assert.equal(o.timeout, 5);
  assert.equal(o.idleTimeout, 5);
  assert.equal(o.maxFails, 3);
  assert.equal(o.failTimeout, 60);
  assert.equal(normalizeProxyOptions({ upstream: 'https://up.example/', maxFails: 0 }).maxFails, 0);
  assert.throws(() => normalizeProxyOptions({ upstream: 'https://up.example/', timeout: 0 }), /timeout/);
  assert.throws(() => normalizeProxyOptions({ upstream: 'https://up.example/', maxFails: 1.5 }), /maxFails/);
  assert.throws(() => normalizeProxyOptions({ upstream: 'https://up.example/', idleTimeout: -1 }), /idleTimeout/);
});

test('options stored before the timeouts split get their defaults', () => {
  const o = proxyOptionsOf({ upstream: 'https://up.example/', metadataTtl: 600, negativeTtl: 60, timeout: 7, offline: false });
  assert.equal(o.idleTimeout, 7);
  assert.equal(o.maxFails, 3);
  assert.equal(o.failTimeout, 60);
});

test('the sha256 an upstream announces, in any of the headers in use', () => {
  const hex = 'ab'.repeat(32);
  const b64 = Buffer.from(hex, 'hex').toString('base64');
  assert.equal(announcedSha256(new Headers({ 'x-checksum-sha256': hex.toUpperCase() })), hex);
  assert.equal(announcedSha256(new Headers({ 'repr-digest': `sha-512=:AAAA:, sha-256=:${b64}:` })), hex);
  assert.equal(announcedSha256(new Headers({ digest: `SHA-256=${b64}` })), hex);
  assert.equal(announcedSha256(new Headers({ digest: 'SHA-256=AAAA' })), null);
  assert.equal(announcedSha256(new Headers({})), null);
});
