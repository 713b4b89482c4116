#!/usr/bin/env node
// The `wharf` command line. `serve` runs the server; every other command talks HTTP to a
// running server (WHARF_URL) through the typed client in src/client/.
import { Command } from 'commander';
import { WHARF_VERSION } from '../version.ts';
import { serve } from './commands/serve.ts';

const program = new Command('wharf').version(WHARF_VERSION).description('Self-hosted package repositories: PyPI, APT, Arch Linux and files');

program.command('serve')
  .description('run the server (embedded default: SQLite and blobs in ./wharf-data)')
  .option('--host <host>', 'address to listen on (WHARF_HOST)', undefined)
  .option('--port <port>', 'port to listen on (WHARF_PORT)', undefined)
  .option('--data <dir>', 'data directory (WHARF_DATA)', undefined)
  .option('--config <file>', 'JSON configuration file (WHARF_CONFIG)', undefined)
  .option('--log-level <level>', 'trace, debug, info, warn, error (WHARF_LOG_LEVEL)', undefined)
  .action(serve);

await program.parseAsync(process.argv);
