// `wharf serve`: run the server until SIGINT/SIGTERM.
import { buildServer } from '../../server/app.ts';
import { ConfigError, loadConfig, type Config } from '../../server/config.ts';
import { DataDirLockedError } from '../../storage/data-dir-lock.ts';

export interface ServeOptions {
  host?: string;
  port?: string;
  data?: string;
  config?: string;
  logLevel?: string;
  trustedProxies?: string;
}

export async function serve(opts: ServeOptions): Promise<void> {
  let config: Config;
  try {
    config = loadConfig({ flags: { host: opts.host, port: opts.port, data: opts.data, config: opts.config, logLevel: opts.logLevel, trustedProxies: opts.trustedProxies } });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`wharf: ${err.message}\n`);
    process.exit(2);
  }
  let built: Awaited<ReturnType<typeof buildServer>>;
  try {
    // Takes the data directory's lock before it touches blobs/tmp or the database.
    built = await buildServer(config);
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err;
    process.stderr.write(`wharf: ${err.message}\n`);
    process.exit(1);
  }
  const { app, generatedAdminPassword } = built;
  if (generatedAdminPassword) {
    // Shown once, on the terminal that started the first run; it is not logged.
    process.stderr.write(`\nCreated user "admin" with password: ${generatedAdminPassword}\nIt is not shown again; set WHARF_ADMIN_PASSWORD on first start to choose it.\n\n`);
  }
  const address = await app.listen({ host: config.host, port: config.port });
  app.log.info({ address, data: config.data }, 'wharf is ready');
  let closing = false;
  const stop = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    await app.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
