// HTTPS for the server: one certificate (from files, or from ACME) installed on every TLS
// server Wharf listens with, and replaced there with setSecureContext: connections already
// open keep the certificate they were made with, new ones get the new one; nothing restarts.
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.ts';
import { AcmeCertificate } from './acme-certificate.ts';
import { TlsError } from './errors.ts';
import { FileCertificate } from './file-certificate.ts';
import { HttpListener } from './http-listener.ts';
import type { CertPair } from './pem.ts';
import { readFileSync } from 'node:fs';

export type TlsConfig = Pick<Config, 'host' | 'port' | 'data' | 'tlsCert' | 'tlsKey' | 'acmeDomains' | 'acmeEmail' | 'acmeDirectory' | 'acmeCaCert' | 'acmeRenewBefore' | 'httpPort' | 'httpRedirect'>;

export class TlsService {
  private readonly config: TlsConfig;
  private readonly servers = new Set<HttpsServer>();
  /** The first server made: the main port, where redirects go. */
  private main: HttpsServer | null = null;
  private log: FastifyBaseLogger | null = null;
  private current: CertPair | null = null;
  private files: FileCertificate | null = null;
  private acme: AcmeCertificate | null = null;
  private http: HttpListener | null = null;

  /** The service for this configuration, or null when it asks for plain HTTP. */
  static fromConfig(config: TlsConfig): TlsService | null {
    return config.tlsCert || config.acmeDomains.length ? new TlsService(config) : null;
  }

  private constructor(config: TlsConfig) {
    this.config = config;
  }

  /** The certificate served to new connections. */
  get certificate(): CertPair | null {
    return this.current;
  }

  /** The plain HTTP listener's port (ACME challenges, redirect), if there is one. */
  get httpPort(): number | null {
    return this.http?.port ?? null;
  }

  /** A TLS server that gets the current certificate and every later one. */
  createServer(listener: (req: IncomingMessage, res: ServerResponse) => void): HttpsServer {
    // Created without a certificate: start() installs one before the server listens.
    const server = createHttpsServer({}, listener);
    if (this.current) server.setSecureContext({ cert: this.current.cert, key: this.current.key });
    this.servers.add(server);
    this.main ??= server;
    server.once('close', () => this.servers.delete(server));
    return server;
  }

  private mainPort(): number {
    const a = this.main?.address();
    return a && typeof a === 'object' ? a.port : this.config.port;
  }

  private apply(pair: CertPair, why: string): void {
    this.current = pair;
    for (const server of this.servers) server.setSecureContext({ cert: pair.cert, key: pair.key });
    const { serial, notAfter, names } = pair.info;
    this.log?.info({ reason: why, serial, names, notAfter: notAfter.toISOString() }, 'TLS certificate in use');
    if (notAfter.getTime() < Date.now()) this.log?.warn({ serial, notAfter: notAfter.toISOString() }, 'the TLS certificate has expired: clients will refuse it');
  }

  /**
   * Load the certificate, or order it over ACME (the HTTP listener answers the challenge),
   * before the server listens. Throws TlsError, with everything it started stopped again.
   */
  async start(log: FastifyBaseLogger): Promise<void> {
    this.log = log;
    const c = this.config;
    const apply = (pair: CertPair, why: string) => this.apply(pair, why);
    try {
      if (c.httpPort !== undefined) {
        const fallbackHost = c.acmeDomains[0] ?? 'localhost';
        this.http = new HttpListener({ redirectToPort: c.httpRedirect ? () => this.mainPort() : null, fallbackHost });
        await this.http.listen(c.host, c.httpPort).catch((err: NodeJS.ErrnoException) => {
          const what = `the plain HTTP port ${c.httpPort} (for ${c.acmeDomains.length ? 'ACME HTTP-01 challenges' : 'the HTTPS redirect'})`;
          if (err.code === 'EADDRINUSE') throw new TlsError(`${what} on ${c.host} is already in use by another program; stop it or choose another with --http-port (WHARF_HTTP_PORT)`);
          if (err.code === 'EACCES') throw new TlsError(`no permission to listen on ${what}: ports below 1024 need root or CAP_NET_BIND_SERVICE (see docs/security.md); or choose another with --http-port (WHARF_HTTP_PORT)`);
          throw err;
        });
        log.info({ address: `http://${c.host}:${this.http.port}`, redirect: c.httpRedirect }, 'plain HTTP listener for ACME challenges and redirects');
      }
      if (c.tlsCert && c.tlsKey) {
        this.files = new FileCertificate({ certPath: c.tlsCert, keyPath: c.tlsKey, log, apply });
        this.files.start();
      } else {
        let caCert: string | undefined;
        if (c.acmeCaCert) {
          try {
            caCert = readFileSync(c.acmeCaCert, 'utf8');
          } catch (err) {
            throw new TlsError(`cannot read --acme-ca-cert ${c.acmeCaCert}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
          }
        }
        this.acme = new AcmeCertificate({
          dataDir: c.data,
          domains: c.acmeDomains,
          directory: c.acmeDirectory,
          email: c.acmeEmail,
          caCert,
          renewBeforeDays: c.acmeRenewBefore,
          challenges: this.http!.challenges,
          log,
          apply,
        });
        await this.acme.start();
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** SIGHUP: read the files again, or renew the ACME certificate if it is due. */
  async reload(why: string): Promise<void> {
    if (this.files) this.files.reload(why);
    if (this.acme) {
      await this.acme.check(why).catch((err: Error) => {
        this.log?.error({ reason: why, err: err.message }, 'TLS certificate renewal failed; still serving the current certificate');
      });
    }
  }

  async close(): Promise<void> {
    this.files?.close();
    await this.acme?.close();
    await this.http?.close();
  }
}
