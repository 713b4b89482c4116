// Start-up failures an operator can cause (a port in use, a data directory that cannot be
// written, a bad configuration) as one line that says what to do. Anything else is a bug:
// the caller logs its stack.
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { userInfo } from 'node:os';
import { SchemaTooNewError } from '../db/database.ts';
import { ConfigError } from '../server/config.ts';
import { TlsError } from '../server/tls/errors.ts';
import { DataDirLockedError } from '../storage/data-dir-lock.ts';
import { BlobStoreError } from '../storage/s3-blob-store.ts';

/** A failure explained in `message`; no stack trace is needed to act on it. */
export class StartupError extends Error {
  override name = 'StartupError';
}

function who(): string {
  const uid = process.getuid?.();
  let name = '';
  try {
    name = userInfo().username;
  } catch {
    // a uid without a passwd entry (containers)
  }
  return name ? `user ${name} (uid ${uid})` : `uid ${uid}`;
}

/** The nearest existing ancestor of `path` that is not a directory, if any. */
function fileInTheWay(path: string): string | null {
  for (let p = path; ; p = dirname(p)) {
    try {
      return statSync(p).isDirectory() ? null : p;
    } catch {
      if (dirname(p) === p) return null;
    }
  }
}

/** Create the data directory if needed and check that this process may write in it. */
export function prepareDataDir(dir: string): void {
  const blocker = fileInTheWay(dir);
  if (blocker) throw new StartupError(`data directory ${dir} cannot be created: ${blocker} is a file, not a directory; choose another with --data (WHARF_DATA)`);
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS') {
      const where = e.path && e.path !== dir ? ` (${e.path}: ${e.code})` : '';
      throw new StartupError(`data directory ${dir} is not writable by ${who()}${where}: it needs read, write and search (rwx) permission there; change its owner or mode, or choose another with --data (WHARF_DATA)`);
    }
    throw err;
  }
}

/** One line for a failure the operator can fix, or null for a bug. */
export function describeStartupError(err: unknown, config?: { host: string; port: number; data: string }): string | null {
  if (err instanceof StartupError || err instanceof ConfigError || err instanceof DataDirLockedError || err instanceof TlsError || err instanceof BlobStoreError) return err.message;
  if (err instanceof SchemaTooNewError) return `${config?.data ?? 'data directory'}: ${err.message}`;
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  const port = e.port ?? config?.port;
  const mainPort = port === config?.port;
  const portHint = mainPort ? 'choose another with --port (WHARF_PORT)' : "change the repository's listen option";
  switch (e?.code) {
    case 'EADDRINUSE':
      return `port ${port} on ${e.address ?? config?.host} is already in use by another program; stop it or ${portHint}`;
    case 'EACCES':
      if (e.syscall === 'listen' || e.syscall === 'bind') return `no permission to listen on port ${port} (ports below 1024 need root or CAP_NET_BIND_SERVICE); ${portHint}`;
      break;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${e.address ?? config?.host}: it is not an address of this machine; choose another with --host (WHARF_HOST)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      if (e.syscall === 'getaddrinfo') return `cannot listen on ${config?.host}: the host name does not resolve; choose another with --host (WHARF_HOST)`;
      break;
    case 'ENOSPC':
      return `no space left on the device of the data directory ${config?.data ?? ''}`.trimEnd();
  }
  // SQLite reports an unwritable database without a path.
  if (config && /unable to open database file|readonly database|disk I\/O error/i.test(String(e?.message))) {
    return `cannot open the database in ${config.data} (${e.message}): check that the directory and its wharf.db files are writable by ${who()}`;
  }
  if (config && (e?.code === 'EACCES' || e?.code === 'EPERM' || e?.code === 'EROFS') && e.path) {
    return `no permission to write ${e.path} (${e.code}) in the data directory: it must be writable by ${who()}`;
  }
  return null;
}
