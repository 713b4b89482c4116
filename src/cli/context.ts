// What every client command needs: a client built from --url/--token or WHARF_* variables,
// and consistent output helpers.
import { WharfApiError, WharfClient } from '../client/client.ts';

export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

export function clientFrom(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): WharfClient {
  return new WharfClient({
    url: opts.url ?? env.WHARF_URL ?? 'http://127.0.0.1:8080',
    token: opts.token ?? env.WHARF_TOKEN,
    user: env.WHARF_USER,
    password: env.WHARF_PASSWORD,
  });
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** Left-aligned columns, for human-readable listings. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n') + '\n';
}

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

/** Run a command body; API errors become one clear line and exit code 1. */
export async function run(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof WharfApiError) {
      process.stderr.write(`wharf: ${err.message} (${err.status} ${err.code})\n`);
    } else if (err instanceof TypeError && err.message === 'fetch failed') {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      process.stderr.write(`wharf: cannot reach the server (${cause?.code ?? cause?.message ?? 'network error'}); is WHARF_URL right?\n`);
    } else {
      process.stderr.write(`wharf: ${(err as Error).message}\n`);
    }
    process.exitCode = 1;
  }
}
