// HTTPS requests that report which certificate the server presented, on new or kept-alive
// connections; and certificates made at test time with Debian's openssl.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request, type Agent } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';

export interface HttpsAnswer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  /** Serial number of the certificate on this connection. */
  serial: string;
  socket: TLSSocket;
}

export function httpsGet(url: string, opts: { ca: string; agent?: Agent; headers?: Record<string, string> }): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    // agent: false opens a new connection for this request alone.
    const req = request(url, { ca: opts.ca, agent: opts.agent ?? false, headers: opts.headers }, (res) => {
      const socket = res.socket as TLSSocket;
      const serial = socket.getPeerCertificate().serialNumber;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers, serial, socket }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Poll `check` until it returns a value other than undefined (or time runs out). */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A test CA in `dir` (ca.pem, ca.key). */
export function makeCa(dir: string): { caFile: string; ca: string } {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem'), '-days', '2', '-subj', '/CN=wharf test CA']);
  return { caFile: join(dir, 'ca.pem'), ca: readFileSync(join(dir, 'ca.pem'), 'utf8') };
}

/** A server certificate for localhost and 127.0.0.1 signed by the CA in `dir`: its PEMs. */
export function makeLeaf(dir: string, name: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=localhost']);
  openssl(['x509', '-req', '-in', csr, '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', join(dir, 'san.cnf')]);
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}
