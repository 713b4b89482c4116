// HTTPS from certificate files (issue 9): served on the main port and on a repository's own
// port, read again on SIGHUP and when the files change, without a restart and without
// closing connections already open; a bad pair is refused at start in one line, and on a
// reload is logged while the previous certificate stays in use.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../helpers/clients.ts';
import { httpsGet, makeCa, makeLeaf, waitFor } from '../helpers/https.ts';
import { freePort } from '../helpers/ports.ts';
import { startServe, type ServeProcess } from '../helpers/serve-process.ts';

const PASSWORD = 'tls-test-password';

/** `TLS certificate in use` lines the server logged, as parsed JSON. */
function inUse(proc: ServeProcess): { serial: string; reason: string }[] {
  return proc.stdout().split('\n').filter((l) => l.includes('"TLS certificate in use"')).map((l) => JSON.parse(l));
}

describe('HTTPS from --tls-cert/--tls-key', () => {
  let dir: string;
  let ca: string;
  let caFile: string;
  let proc: ServeProcess;
  let port: number;
  let ownPort: number;
  let httpPort: number;
  const certFile = () => join(dir, 'server.pem');
  const keyFile = () => join(dir, 'server.key');
  const serialOf = (cert: string) => new X509Certificate(cert).serialNumber;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-tls-'));
    ({ ca, caFile } = makeCa(dir));
    const first = makeLeaf(dir, 'first');
    await writeFile(certFile(), first.cert);
    await writeFile(keyFile(), first.key);
    ownPort = await freePort();
    httpPort = await freePort();
    await writeFile(join(dir, 'wharf.json'), JSON.stringify({ repositories: [{ name: 'pypi', format: 'pypi', options: { listen: ownPort } }] }));
    proc = await startServe(join(dir, 'data'), { WHARF_ADMIN_PASSWORD: PASSWORD, WHARF_TLS_KEY: keyFile() }, ['--config', join(dir, 'wharf.json'), '--tls-cert', certFile(), '--http-port', String(httpPort), '--http-redirect', '--log-format', 'json']);
    const url = await proc.ready;
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    port = Number(new URL(url).port);
  });
  after(async () => {
    proc?.child.kill('SIGTERM');
    await proc?.exited;
    await rm(dir, { recursive: true, force: true });
  });

  it('serves HTTPS that curl --cacert trusts, on the main port and the repository port', async () => {
    const health = await run('curl', ['-sS', '--fail', '--cacert', caFile, `https://localhost:${port}/-/health`]);
    assert.equal(health.code, 0, health.stderr);
    assert.match(health.stdout, /"status":"ok"/);
    const own = await run('curl', ['-sS', '--fail', '--cacert', caFile, `https://localhost:${ownPort}/simple/`]);
    assert.equal(own.code, 0, own.stderr);
    // The set-up a browser is shown names the https:// URL.
    const page = await httpsGet(`https://localhost:${port}/pypi/`, { ca, headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    assert.ok(page.body.includes(`https://localhost:${port}/pypi/`), page.body.slice(0, 500));
    // Plain HTTP on the HTTPS port is not answered as HTTP.
    const plain = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/-/health`]);
    assert.notEqual(plain.stdout, '200');
  });

  it('redirects plain HTTP on --http-port to HTTPS, keeping the path', async () => {
    const r = await new Promise<{ status: number; location?: string }>((resolve, reject) => {
      httpRequest(`http://127.0.0.1:${httpPort}/pypi/simple/?x=1`, { method: 'POST', headers: { host: `localhost:${httpPort}` } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, location: res.headers.location });
      }).on('error', reject).end();
    });
    assert.equal(r.status, 308);
    assert.equal(r.location, `https://localhost:${port}/pypi/simple/?x=1`);
  });

  it('takes a new pair on SIGHUP for new connections, while an open keep-alive connection goes on', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
    try {
      const a = await httpsGet(`https://localhost:${port}/-/health`, { ca, agent });
      const oldSerial = a.serial;
      const second = makeLeaf(dir, 'second');
      await writeFile(keyFile(), second.key);
      await writeFile(certFile(), second.cert);
      const newSerial = serialOf(second.cert);
      assert.notEqual(newSerial, oldSerial);
      proc.child.kill('SIGHUP');
      const line = await waitFor('the new certificate in use', () => inUse(proc).find((l) => l.serial === newSerial));
      assert.equal(line.reason, 'SIGHUP');
      const fresh = await httpsGet(`https://localhost:${port}/-/health`, { ca });
      assert.equal(fresh.serial, newSerial);
      const own = await httpsGet(`https://localhost:${ownPort}/simple/`, { ca });
      assert.equal(own.serial, newSerial, 'the repository port has the new certificate too');
      // The kept-alive connection is the same socket, still on the old certificate.
      const b = await httpsGet(`https://localhost:${port}/-/health`, { ca, agent });
      assert.equal(b.status, 200);
      assert.equal(b.socket, a.socket);
      assert.equal(b.serial, oldSerial);
    } finally {
      agent.destroy();
    }
  });

  it('keeps the served certificate when the files on a reload are not a pair, and logs why', async () => {
    const before = (await httpsGet(`https://localhost:${port}/-/health`, { ca })).serial;
    const other = makeLeaf(dir, 'mismatch');
    await writeFile(keyFile(), other.key); // the certificate file is left as it was
    proc.child.kill('SIGHUP');
    await waitFor('the refused reload to be logged', () => (proc.stdout().split('\n').some((l) => l.includes('TLS certificate not reloaded') && l.includes('is not the key of the certificate')) ? true : undefined));
    const after = await httpsGet(`https://localhost:${port}/-/health`, { ca });
    assert.equal(after.serial, before);
    assert.equal(after.status, 200);
    // Completing the pair is picked up from the files alone (no signal): they are watched.
    await writeFile(certFile(), other.cert);
    const want = serialOf(other.cert);
    await waitFor('the changed files to be served', async () => ((await httpsGet(`https://localhost:${port}/-/health`, { ca })).serial === want ? true : undefined), 20_000);
    assert.equal(inUse(proc).at(-1)?.reason, 'file changed');
  });
});

describe('HTTPS start-up failures are one line', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-tls-bad-'));
    makeCa(dir);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  async function failing(args: string[]): Promise<string> {
    const p = await startServe(join(dir, `data-${Math.random()}`), { WHARF_ADMIN_PASSWORD: PASSWORD }, args);
    const code = await p.exited;
    assert.notEqual(code, 0);
    const lines = p.stderr().trim().split('\n');
    assert.equal(lines.length, 1, p.stderr());
    assert.doesNotMatch(p.stderr(), /\n\s+at /);
    return lines[0]!;
  }

  it('names a missing file, a key that is not the certificate\'s, and a missing half', async () => {
    const a = makeLeaf(dir, 'a');
    const b = makeLeaf(dir, 'b');
    assert.ok(a.cert && b.key);
    assert.equal(await failing(['--tls-cert', join(dir, 'a.pem'), '--tls-key', join(dir, 'nope.key')]), `wharf: cannot read the TLS key ${join(dir, 'nope.key')}: no such file`);
    assert.match(await failing(['--tls-cert', join(dir, 'a.pem'), '--tls-key', join(dir, 'b.key')]), /^wharf: .*b\.key is not the key of the certificate in .*a\.pem/);
    assert.match(await failing(['--tls-cert', join(dir, 'a.key'), '--tls-key', join(dir, 'a.key')]), /^wharf: .*a\.key holds no PEM certificate/);
    assert.equal(await failing(['--tls-cert', join(dir, 'a.pem')]), 'wharf: --tls-cert needs --tls-key (WHARF_TLS_KEY, tlsKey)');
  });
});
