// ACME end to end (issue 9) against Debian's pebble, with real HTTP-01 validation on Wharf's
// plain HTTP port: Wharf orders a certificate for `localhost` before it listens, pip installs
// and twine uploads over HTTPS with pebble's root trusted, a forced renewal (SIGHUP with a
// renewal window longer than the certificate's life) is served to new connections while a
// kept-alive one goes on, and a restart reuses the stored certificate without a new order.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pip, twineUpload } from '../helpers/clients.ts';
import { httpsGet, waitFor } from '../helpers/https.ts';
import { startPebble, type Pebble } from '../helpers/pebble.ts';
import { freePort } from '../helpers/ports.ts';
import { buildWheel, wheelFilename } from '../helpers/python-dists.ts';
import { startServe, type ServeProcess } from '../helpers/serve-process.ts';

const PASSWORD = 'acme-test-password';

function logLines(proc: ServeProcess, msg: string): Record<string, unknown>[] {
  return proc.stdout().split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).map((l) => JSON.parse(l));
}

describe('certificates from an ACME CA (pebble)', () => {
  let dir: string;
  let data: string;
  let pebble: Pebble;
  let httpPort: number;
  let root: string;
  let proc: ServeProcess | undefined;
  let port: number;

  const acmeArgs = () => ['--acme-domain', 'localhost', '--acme-email', 'ops@example.org', '--acme-directory', pebble.directory, '--http-port', String(httpPort), '--http-redirect', '--log-format', 'json'];
  async function serve(extra: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
    const p = await startServe(data, { WHARF_ADMIN_PASSWORD: PASSWORD, ...env }, [...acmeArgs(), ...extra]);
    const url = await p.ready;
    port = Number(new URL(url).port);
    return p;
  }
  async function stop(p: ServeProcess | undefined): Promise<void> {
    if (!p || p.child.exitCode !== null) return;
    p.child.kill('SIGTERM');
    await p.exited;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-acme-'));
    data = join(dir, 'data');
    httpPort = await freePort();
    pebble = await startPebble({ httpPort });
  });
  after(async () => {
    await stop(proc);
    await pebble?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses to start, in one line, when the ACME server cannot be trusted', async () => {
    const p = await startServe(join(dir, 'untrusted'), { WHARF_ADMIN_PASSWORD: PASSWORD }, acmeArgs());
    const code = await p.exited;
    assert.equal(code, 1);
    assert.equal(p.stderr().trim().split('\n').length, 1, p.stderr());
    assert.match(p.stderr(), /^wharf: could not get a certificate for localhost from https:\/\/127\.0\.0\.1:\d+\/dir: the ACME server's HTTPS certificate is not trusted \(\w+\); for a private CA give its root with --acme-ca-cert/);
  });

  it('says in one line why the CA could not validate the name', async () => {
    // The plain HTTP port is not the one pebble validates on.
    const other = await freePort();
    const p = await startServe(join(dir, 'unvalidated'), { WHARF_ADMIN_PASSWORD: PASSWORD }, [...acmeArgs().map((a) => (a === String(httpPort) ? String(other) : a)), '--acme-ca-cert', pebble.httpsCaFile]);
    assert.equal(await p.exited, 1);
    assert.equal(p.stderr().trim().split('\n').length, 1, p.stderr());
    assert.match(p.stderr(), new RegExp(`^wharf: could not get a certificate for localhost from .*http://localhost:${httpPort}/\\.well-known/acme-challenge/.*connection refused.*each name must resolve to this server`));
  });

  it('gets a certificate over HTTP-01 before listening, and keeps it and the account key in <data>/tls', async () => {
    // A renewal window longer than pebble's certificates live: every check renews (used below).
    proc = await serve(['--acme-ca-cert', pebble.httpsCaFile, '--acme-renew-before', '100000']);
    root = await pebble.fetchRoot();
    const health = await httpsGet(`https://localhost:${port}/-/health`, { ca: root });
    assert.equal(health.status, 200);
    assert.equal(health.socket.getPeerCertificate().subject.CN, 'localhost');
    // Validated for real: pebble fetched the token from Wharf's HTTP port.
    assert.match(pebble.log(), new RegExp(`Attempting to validate w/ HTTP: http://localhost:${httpPort}/\\.well-known/acme-challenge/`));
    for (const f of ['account-key.pem', 'key.pem']) assert.equal((await stat(join(data, 'tls', f))).mode & 0o777, 0o600, f);
    assert.equal((await stat(join(data, 'tls'))).mode & 0o777, 0o700);
    const meta = JSON.parse(await readFile(join(data, 'tls', 'cert.json'), 'utf8'));
    assert.deepEqual(meta, { directory: pebble.directory, domains: ['localhost'] });
  });

  it('twine uploads and pip installs over HTTPS with pebble\'s root trusted', async () => {
    const wheel = buildWheel({ name: 'acme-pkg', version: '1.0' });
    const file = join(dir, wheelFilename({ name: 'acme-pkg', version: '1.0' }));
    await writeFile(file, wheel);
    // requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE (set on these machines) override the
    // --cert of twine and pip: unset them, as a user who passes --cert would.
    const noBundle = { REQUESTS_CA_BUNDLE: undefined, CURL_CA_BUNDLE: undefined };
    const up = await twineUpload(`https://localhost:${port}/pypi/`, 'admin', PASSWORD, [file], ['--cert', pebble.rootFile], noBundle);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    const target = join(dir, 'target');
    const inst = await pip(['install', '--cert', pebble.rootFile, '--index-url', `https://localhost:${port}/pypi/simple/`, '--target', target, 'acme-pkg'], noBundle);
    assert.equal(inst.code, 0, inst.stdout + inst.stderr);
    assert.ok((await stat(join(target, 'acme_pkg'))).isDirectory());
    // Without the root, pip refuses the certificate: the trust above is real.
    const untrusted = await pip(['install', '--index-url', `https://localhost:${port}/pypi/simple/`, '--target', join(dir, 't2'), '--retries', '0', 'acme-pkg'], noBundle);
    assert.notEqual(untrusted.code, 0);
    assert.match(untrusted.stdout + untrusted.stderr, /CERTIFICATE_VERIFY_FAILED|certificate verify failed/);
  });

  it('redirects plain HTTP to HTTPS on the challenge port', async () => {
    const r = await fetch(`http://localhost:${httpPort}/pypi/simple/`, { redirect: 'manual' });
    assert.equal(r.status, 308);
    assert.equal(r.headers.get('location'), `https://localhost:${port}/pypi/simple/`);
  });

  it('renews on SIGHUP when due: new connections get the new certificate, an open one goes on', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: root });
    try {
      const a = await httpsGet(`https://localhost:${port}/-/health`, { ca: root, agent });
      proc!.child.kill('SIGHUP');
      const renewed = await waitFor('the renewed certificate', () => logLines(proc!, 'TLS certificate in use').find((l) => l.reason === 'ACME (SIGHUP)'));
      assert.notEqual(renewed.serial, a.serial);
      const fresh = await httpsGet(`https://localhost:${port}/-/health`, { ca: root });
      assert.equal(fresh.serial, renewed.serial);
      const b = await httpsGet(`https://localhost:${port}/-/health`, { ca: root, agent });
      assert.equal(b.status, 200);
      assert.equal(b.socket, a.socket, 'the kept-alive connection was not closed');
      assert.equal(b.serial, a.serial);
    } finally {
      agent.destroy();
    }
  });

  it('after a restart serves the stored certificate without ordering again', async () => {
    const served = (await httpsGet(`https://localhost:${port}/-/health`, { ca: root })).serial;
    await stop(proc);
    proc = await serve(['--acme-ca-cert', pebble.httpsCaFile]);
    const again = await httpsGet(`https://localhost:${port}/-/health`, { ca: root });
    assert.equal(again.serial, served);
    assert.deepEqual(logLines(proc, 'ordering a TLS certificate over ACME'), []);
    assert.equal(logLines(proc, 'TLS certificate in use')[0]?.reason, 'loaded from the data directory');
  });
});
