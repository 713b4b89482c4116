// `wharf serve`: run the server until SIGINT/SIGTERM.
import Fastify, { type FastifyInstance } from 'fastify';
import { buildServer, loggerOptions } from '../../server/app.ts';
import { ConfigError, loadConfig, type Config } from '../../server/config.ts';
import type { TlsService } from '../../server/tls/tls-service.ts';
import { closeGracefully } from '../../server/shutdown.ts';
import { lockDataDir } from '../../storage/data-dir-lock.ts';
import { startPrimary, WorkerStartError, reportReady, workerSlot } from '../../server/workers.ts';
import { describeStartupError, prepareDataDir } from '../startup-errors.ts';

const exitCodeOf = (err: unknown) => (err instanceof ConfigError ? 2 : err instanceof WorkerStartError ? err.exitCode : 1);

/**
 * The primary of `--workers N`: it serves nothing; it holds the data directory's lock, starts
 * the workers (which run this same command) and keeps N of them running until SIGTERM/SIGINT.
 * Errors are the caller's (one line on stderr, as for one process).
 */
async function runPrimary(config: Config): Promise<void> {
  prepareDataDir(config.data);
  const lock = lockDataDir(config.data, `serve --workers ${config.workers}`);
  // Fastify's logger (pino) for the same lines, in the same format, as the workers'.
  const log = Fastify({ logger: loggerOptions(config) }).log.child({ role: 'primary' });
  const primary = await startPrimary({ data: config.data, workers: config.workers, shutdownGraceMs: config.shutdownGraceSeconds * 1000, log });
  let closing = false;
  const stop = async (signal: string, code: number) => {
    if (closing) return;
    closing = true;
    log.info({ signal, graceSeconds: config.shutdownGraceSeconds }, 'shutting down the workers');
    await primary.stop(signal);
    lock.release();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop('SIGINT', 0));
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  // SIGHUP: every worker reads its certificate files again.
  process.on('SIGHUP', () => primary.forward('SIGHUP'));
  try {
    const address = await primary.ready;
    log.info({ address, data: config.data, workers: Object.fromEntries(primary.pids()) }, 'wharf is ready');
  } catch (err) {
    // The worker said why on stderr; the others are stopped before this process exits.
    process.stderr.write(`wharf: ${(err as Error).message}; stopping the others\n`);
    await stop('SIGTERM', exitCodeOf(err));
  }
}

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
  workers?: string;
}

export async function serve(opts: ServeOptions): Promise<void> {
  let config: Config | undefined;
  let app: FastifyInstance | undefined;
  let tls: TlsService | null = null;
  try {
    const { host, port, data, config: file, logLevel, logFormat, trustedProxies, blobs, database, staticDir, tlsCert, tlsKey, acmeEmail, acmeDirectory, acmeCaCert, acmeRenewBefore, httpPort, httpRedirect, workers } = opts;
    const acmeDomain = opts.acmeDomain?.length ? opts.acmeDomain : undefined;
    config = loadConfig({ flags: { host, port, data, config: file, logLevel, logFormat, trustedProxies, blobs, database, staticDir, tlsCert, tlsKey, acmeDomain, acmeEmail, acmeDirectory, acmeCaCert, acmeRenewBefore, httpPort, httpRedirect, workers } });
    const slot = workerSlot();
    if (config.workers > 1 && slot === null) return await runPrimary(config);
    prepareDataDir(config.data);
    // Takes the data directory's lock before it touches blobs/tmp or the database (a worker's
    // primary holds it for all workers).
    const built = await buildServer(config, slot === null ? {} : { worker: { slot } });
    app = built.app;
    tls = built.tls;
    if (built.generatedAdminPassword) {
      // Shown once, on the terminal that started the first run; it is not logged.
      process.stderr.write(`\nCreated user "admin" with password: ${built.generatedAdminPassword}\nIt is not shown again; set WHARF_ADMIN_PASSWORD on first start to choose it.\n\n`);
    }
    // Fastify names the scheme from its own https option; the HTTPS server here is Wharf's.
    const scheme = (a: string) => (tls ? a.replace(/^http:/, 'https:') : a);
    const address = scheme(await app.listen({ host: config.host, port: config.port, listenTextResolver: (a) => `Server listening at ${scheme(a)}` }));
    if (slot === null) app.log.info({ address, data: config.data }, 'wharf is ready');
    else reportReady(address);
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
    process.exit(exitCodeOf(err));
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
