// What ACME gave us, kept in <data>/tls/: the account key, the certificate chain and its key
// (keys readable by the owner only), and which CA and names the certificate was ordered for.
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { checkPair, type CertPair } from './pem.ts';

export interface StoredMeta {
  directory: string;
  domains: string[];
}

/** Write a file whole or not at all (a crash leaves the old one), with this mode. */
function writeAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, mode); // the umask may have narrowed or the file may have existed
  renameSync(tmp, path);
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export class CertStore {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'tls');
  }

  private path(name: string): string {
    return join(this.dir, name);
  }

  private ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  accountKey(): string | null {
    return readOrNull(this.path('account-key.pem'));
  }

  saveAccountKey(pem: string): void {
    this.ensureDir();
    writeAtomic(this.path('account-key.pem'), pem, 0o600);
  }

  /** The stored certificate and what it was ordered for, or null if none (or a broken pair). */
  load(): { pair: CertPair; meta: StoredMeta } | null {
    const cert = readOrNull(this.path('cert.pem'));
    const key = readOrNull(this.path('key.pem'));
    const meta = readOrNull(this.path('cert.json'));
    if (!cert || !key || !meta) return null;
    try {
      return { pair: checkPair(cert, key, this.path('cert.pem'), this.path('key.pem')), meta: JSON.parse(meta) as StoredMeta };
    } catch {
      // A crash between writing the key and the certificate: ordered again.
      return null;
    }
  }

  save(cert: string, key: string, meta: StoredMeta): void {
    this.ensureDir();
    writeAtomic(this.path('key.pem'), key, 0o600);
    writeAtomic(this.path('cert.pem'), cert, 0o644);
    writeAtomic(this.path('cert.json'), `${JSON.stringify(meta, null, 2)}\n`, 0o644);
  }
}
