// `wharf serve`: run the server until SIGINT/SIGTERM.
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../server/app.ts';
import { ConfigError, loadConfig, type Config } from '../../server/config.ts';
import { describeStartupError, prepareDataDir } from '../startup-errors.ts';

export interface ServeOptions {
  host?: string;
  port?: string;
  data?: string;
  config?: string;
  logLevel?: string;
  logFormat?: string;
  trustedProxies?: string;
}

export async function serve(opts: ServeOptions): Promise<void> {
  let config: Config | undefined;
  let app: FastifyInstance | undefined;
  try {
    config = loadConfig({ flags: { host: opts.host, port: opts.port, data: opts.data, config: opts.config, logLevel: opts.logLevel, logFormat: opts.logFormat, trustedProxies: opts.trustedProxies } });
    prepareDataDir(config.data);
    // Takes the data directory's lock before it touches blobs/tmp or the database.
    const built = await buildServer(config);
    app = built.app;
    if (built.generatedAdminPassword) {
      // Shown once, on the terminal that started the first run; it is not logged.
      process.stderr.write(`\nCreated user "admin" with password: ${built.generatedAdminPassword}\nIt is not shown again; set WHARF_ADMIN_PASSWORD on first start to choose it.\n\n`);
    }
    const address = await app.listen({ host: config.host, port: config.port });
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
  let closing = false;
  const stop = async (signal: string) => {
    if (closing) return;
    closing = true;
    server.log.info({ signal }, 'shutting down');
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
