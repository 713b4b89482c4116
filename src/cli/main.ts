#!/usr/bin/env node
// The `wharf` command line. `serve` runs the server, `fsck` checks a stopped server's data
// directory and `migrate` moves it into PostgreSQL and object storage; every other command talks HTTP to a running server (WHARF_URL, WHARF_TOKEN or
// WHARF_USER/WHARF_PASSWORD) through the typed client in src/client/.
import { Command, Help } from 'commander';
import { callerCwd } from './caller-cwd.ts';
import { WHARF_VERSION } from '../version.ts';
import { registerAdminCommands } from './commands/admin.ts';
import { registerFsckCommand } from './commands/fsck.ts';
import { registerMigrateCommand } from './commands/migrate.ts';
import { registerMigrateFromCommands } from './commands/migrate-from.ts';
import { registerMirrorCommands } from './commands/mirror.ts';
import { registerPackageCommands } from './commands/packages.ts';
import { registerSnapshotCommands } from './commands/snapshot.ts';
import { serve } from './commands/serve.ts';
import type { GlobalOptions } from './context.ts';

const typedIn = callerCwd(process.env, process.cwd());
if (typedIn) process.chdir(typedIn);

const program = new Command('wharf')
  .version(WHARF_VERSION)
  // A repeatable option starts as []: its help says what an absent option means, not "(default: [])".
  .configureHelp({ optionDescription: (o) => (Array.isArray(o.defaultValue) && o.defaultValue.length === 0 ? o.description : new Help().optionDescription(o)) })
  .description('Self-hosted package repositories: PyPI, APT, Arch Linux and files')
  .option('--url <url>', 'server URL (WHARF_URL, default http://127.0.0.1:8080)')
  .option('--token <token>', 'API token (WHARF_TOKEN); or set WHARF_USER and WHARF_PASSWORD to log in with a password')
  .option('--json', 'print JSON instead of tables');

const globals = () => program.opts<GlobalOptions>();

program.command('serve')
  .description('run the server (embedded default: SQLite and blobs in ./wharf-data)')
  .option('--host <host>', 'address to listen on (WHARF_HOST, default 127.0.0.1)')
  .option('--port <port>', 'port to listen on (WHARF_PORT, default 8080)')
  .option('--data <dir>', 'data directory (WHARF_DATA, default ./wharf-data)')
  .option('--config <file>', 'JSON configuration file (WHARF_CONFIG)')
  .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent (WHARF_LOG_LEVEL, default info)')
  .option('--log-format <format>', 'pretty (for people), json (one object per line) or auto: pretty on a terminal (WHARF_LOG_FORMAT, default auto)')
  .option('--database <url>', 'keep metadata in PostgreSQL, postgres://USER:PASSWORD@HOST/DB (WHARF_DATABASE_URL; default: SQLite in --data)')
  .option('--blobs <url>', 'keep blobs in an S3-compatible store, s3://BUCKET/PREFIX (WHARF_BLOBS; endpoint, region and keys from WHARF_S3_*; default: files under --data)')
  .option('--static-dir <dir>', 'write the indexes and files of public hosted repositories here for nginx, Caddy or a CDN to send (WHARF_STATIC_DIR; docs/static.md)')
  .option('--trusted-proxies <list>', 'comma-separated addresses/CIDRs of reverse proxies whose X-Forwarded-For is believed (WHARF_TRUSTED_PROXIES)')
  .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate chain, reloaded when it changes or on SIGHUP (WHARF_TLS_CERT)')
  .option('--tls-key <file>', 'the PEM private key of --tls-cert (WHARF_TLS_KEY)')
  .option('--acme-domain <name>', 'serve HTTPS with a certificate for this name from an ACME CA (Let\'s Encrypt by default); repeatable or comma-separated (WHARF_ACME_DOMAIN)', (v: string, prev: string[]) => [...prev, v], [])
  .option('--acme-email <address>', 'contact address for the ACME account (WHARF_ACME_EMAIL)')
  .option('--acme-directory <url>', 'ACME directory URL, or letsencrypt / letsencrypt-staging (WHARF_ACME_DIRECTORY, default letsencrypt)')
  .option('--acme-ca-cert <file>', 'PEM CA to trust for the ACME server\'s own HTTPS, for a private CA (WHARF_ACME_CA_CERT)')
  .option('--acme-renew-before <days>', 'renew when fewer days than this remain (WHARF_ACME_RENEW_BEFORE, default a third of the lifetime)')
  .option('--http-port <port>', 'plain HTTP port for ACME HTTP-01 challenges and --http-redirect (WHARF_HTTP_PORT, default 80 with ACME or --http-redirect)')
  .option('--http-redirect', 'redirect plain HTTP requests on --http-port to HTTPS (WHARF_HTTP_REDIRECT)')
  .option('--workers <n>', 'processes serving the port, or auto (one per core); above 1 needs --database postgres://… (WHARF_WORKERS, default 1)')
  .action(serve);

registerAdminCommands(program, globals);
registerPackageCommands(program, globals);
registerMirrorCommands(program, globals);
registerSnapshotCommands(program, globals);
registerFsckCommand(program, globals);
registerMigrateCommand(program, globals);
registerMigrateFromCommands(program, globals);

await program.parseAsync(process.argv);
