// Debian's `pebble` (an RFC 8555 test CA) on 127.0.0.1 with a configuration of its own: its
// HTTPS certificate is made here with openssl, and its HTTP-01 validation goes to the port the
// test names (Wharf's plain HTTP listener).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

export interface Pebble {
  /** The ACME directory URL. */
  directory: string;
  /** PEM of the CA that signed pebble's own HTTPS certificate (for --acme-ca-cert). */
  httpsCaFile: string;
  /** Where the root of the certificates pebble issues was saved (for pip/twine --cert). */
  rootFile: string;
  /** Fetch pebble's current issuing root from its management API and save it to rootFile. */
  fetchRoot(): Promise<string>;
  stop(): Promise<void>;
  log(): string;
}

function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Start pebble; HTTP-01 validations connect to `httpPort` on the domain's address. */
export async function startPebble(opts: { httpPort: number; validitySeconds?: number }): Promise<Pebble> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-pebble-'));
  const caKey = join(dir, 'https-ca.key');
  const caFile = join(dir, 'https-ca.pem');
  const key = join(dir, 'pebble.key');
  const csr = join(dir, 'pebble.csr');
  const cert = join(dir, 'pebble.pem');
  const ssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  ssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', '/CN=pebble https test CA']);
  ssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=localhost']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  ssl(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', join(dir, 'ext.cnf')]);
  const [acmePort, mgmtPort] = [await freePort(), await freePort()];
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`,
      managementListenAddress: `127.0.0.1:${mgmtPort}`,
      certificate: cert,
      privateKey: key,
      httpPort: opts.httpPort,
      tlsPort: await freePort(),
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
      ...(opts.validitySeconds ? { certificateValidityPeriod: opts.validitySeconds } : {}),
    },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  // Real validation, at full speed.
  const child: ChildProcess = spawn('pebble', ['-config', join(dir, 'config.json')], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_VA_ALWAYS_VALID: '0', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d));
  child.stderr!.on('data', (d: Buffer) => (log += d));
  const ca = readFileSync(caFile, 'utf8');
  const directory = `https://127.0.0.1:${acmePort}/dir`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await get(directory, ca).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`pebble did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const rootFile = join(dir, 'issuing-root.pem');
  return {
    directory,
    httpsCaFile: caFile,
    rootFile,
    async fetchRoot() {
      const r = await get(`https://127.0.0.1:${mgmtPort}/roots/0`, ca);
      if (r.status !== 200) throw new Error(`pebble /roots/0 answered ${r.status}`);
      writeFileSync(rootFile, r.body);
      return r.body;
    },
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
