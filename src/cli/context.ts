// What every client command needs: a client built from --url/--token or WHARF_* variables,
// and consistent output helpers.
import { WharfApiError, WharfClient } from '../client/client.ts';

export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

/** What this command authenticates with, to explain a 401 or 403 in terms of what to set. */
let credentials: { url: string; kind: 'token' | 'password' | 'none' } = { url: '', kind: 'none' };

/** A failure of the user's input or set-up, explained by its message alone. */
export class CliError extends Error {
  override name = 'CliError';
}

export function clientFrom(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): WharfClient {
  const url = opts.url ?? env.WHARF_URL ?? 'http://127.0.0.1:8080';
  const source = opts.url ? '--url' : env.WHARF_URL ? 'WHARF_URL' : 'the default URL';
  if (!/^https?:\/\/[^/]/i.test(url) || !URL.canParse(url)) throw new CliError(`${source} ${JSON.stringify(url)} is not an http:// or https:// URL (e.g. http://127.0.0.1:8080)`);
  const token = opts.token ?? env.WHARF_TOKEN;
  if (!token && env.WHARF_USER && env.WHARF_PASSWORD === undefined) throw new CliError('WHARF_USER is set but WHARF_PASSWORD is not: set both (or WHARF_TOKEN)');
  credentials = { url, kind: token ? 'token' : env.WHARF_USER ? 'password' : 'none' };
  return new WharfClient({ url, token, user: env.WHARF_USER, password: env.WHARF_PASSWORD });
}

/** One line for an answer of the server, with what to set when it is about credentials. */
function explainApiError(err: WharfApiError): string {
  const base = `${err.message} (${err.status} ${err.code})`;
  if (err.status === 401) {
    if (credentials.kind === 'none') return `${credentials.url} needs credentials: set WHARF_TOKEN (or --token), or WHARF_USER and WHARF_PASSWORD`;
    return `${base}: check ${credentials.kind === 'token' ? 'WHARF_TOKEN (or --token)' : 'WHARF_USER and WHARF_PASSWORD'}`;
  }
  if (err.status === 403 && credentials.kind === 'token' && /password login/.test(err.message)) {
    return `${base}: set WHARF_USER and WHARF_PASSWORD and unset WHARF_TOKEN`;
  }
  return base;
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

/** Run a command body; what a user can fix becomes one clear line and exit code 1. */
export async function run(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof WharfApiError) {
      process.stderr.write(`wharf: ${explainApiError(err)}\n`);
    } else if (err instanceof TypeError && err.message === 'fetch failed') {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      process.stderr.write(`wharf: cannot reach the server at ${credentials.url} (${cause?.code ?? cause?.message ?? 'network error'}); is it running, and is WHARF_URL (or --url) right?\n`);
    } else if (err instanceof CliError) {
      process.stderr.write(`wharf: ${err.message}\n`);
    } else if (typeof e?.code === 'string' && e.path !== undefined) {
      // A local file: name it and say what is wrong, not which system call failed.
      const why: Record<string, string> = { ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'is a directory', ENOTDIR: 'a part of the path is not a directory', EEXIST: 'already exists', ENOSPC: 'no space left on the device' };
      process.stderr.write(`wharf: ${e.path}: ${why[e.code] ?? e.message}\n`);
    } else if (err instanceof Error && !(err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError)) {
      process.stderr.write(`wharf: ${err.message}\n`);
    } else {
      // A bug: the stack is what a report needs.
      process.stderr.write(`wharf: internal error: ${(err as Error)?.message ?? err}\n${(err as Error)?.stack ?? ''}\n`);
    }
    process.exitCode = 1;
  }
}
