// `wharf serve`: run the server until SIGINT/SIGTERM.
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../server/app.ts';
import { ConfigError, loadConfig, type Config } from '../../server/config.ts';
import type { TlsService } from '../../server/tls/tls-service.ts';
import { closeGracefully } from '../../server/shutdown.ts';
import { describeStartupError, prepareDataDir } from '../startup-errors.ts';

export interface ServeOptions {
  host?: string;
  port?: string;
  data?: string;
  config?: string;
  logLevel?: string;
  logFormat?: string;
  trustedProxies?: string;
  blobs?: string;
  database?: string;
  staticDir?: string;
  tlsCert?: string;
  tlsKey?: string;
  acmeDomain?: string[];
  acmeEmail?: string;
  acmeDirectory?: string;
  acmeCaCert?: string;
  acmeRenewBefore?: string;
  httpPort?: string;
  httpRedirect?: boolean;
}

export async function serve(opts: ServeOptions): Promise<void> {
  let config: Config | undefined;
  let app: FastifyInstance | undefined;
  let tls: TlsService | null = null;
  try {
    const { host, port, data, config: file, logLevel, logFormat, trustedProxies, blobs, database, staticDir, tlsCert, tlsKey, acmeEmail, acmeDirectory, acmeCaCert, acmeRenewBefore, httpPort, httpRedirect } = opts;
    const acmeDomain = opts.acmeDomain?.length ? opts.acmeDomain : undefined;
    config = loadConfig({ flags: { host, port, data, config: file, logLevel, logFormat, trustedProxies, blobs, database, staticDir, tlsCert, tlsKey, acmeDomain, acmeEmail, acmeDirectory, acmeCaCert, acmeRenewBefore, httpPort, httpRedirect } });
    prepareDataDir(config.data);
    // Takes the data directory's lock before it touches blobs/tmp or the database.
    const built = await buildServer(config);
    app = built.app;
    tls = built.tls;
    if (built.generatedAdminPassword) {
      // Shown once, on the terminal that started the first run; it is not logged.
      process.stderr.write(`\nCreated user "admin" with password: ${built.generatedAdminPassword}\nIt is not shown again; set WHARF_ADMIN_PASSWORD on first start to choose it.\n\n`);
    }
    // Fastify names the scheme from its own https option; the HTTPS server here is Wharf's.
    const scheme = (a: string) => (tls ? a.replace(/^http:/, 'https:') : a);
    const address = scheme(await app.listen({ host: config.host, port: config.port, listenTextResolver: (a) => `Server listening at ${scheme(a)}` }));
    app.log.info({ address, data: config.data }, 'wharf is ready');
  } catch (err) {
    // What an operator can fix is one line on stderr; a bug's stack goes to the log.
    const line = describeStartupError(err, config);
    if (line) process.stderr.write(`wharf: ${line}\n`);
    else {
      if (app) app.log.fatal({ err }, 'wharf could not start');
      else process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
      process.stderr.write(`wharf: could not start: ${(err as Error)?.message ?? err} (a bug: please report it with the stack trace above)\n`);
    }
    await app?.close().catch(() => {});
    process.exit(err instanceof ConfigError ? 2 : 1);
  }
  const server = app;
  const graceMs = config.shutdownGraceSeconds * 1000;
  let closing = false;
  const stop = async (signal: string) => {
    if (closing) return;
    closing = true;
    server.log.info({ signal, graceSeconds: graceMs / 1000 }, 'shutting down');
    await closeGracefully(server, graceMs);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // SIGHUP: read the certificate files again, or renew an ACME certificate that is due.
  const certs = tls;
  if (certs) process.on('SIGHUP', () => void certs.reload('SIGHUP'));
}
