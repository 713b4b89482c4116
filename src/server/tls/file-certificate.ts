// A certificate and key from files the operator manages (certbot, an internal CA): read at
// start, and read again when either file changes (polled, so renames and symlink swaps are
// seen too) or on SIGHUP. A pair that does not load is logged and the served one is kept.
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import { TlsError } from './errors.ts';
import { checkPair, type CertPair } from './pem.ts';

function read(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new TlsError(`cannot read the TLS ${what} ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message}`);
  }
}

export class FileCertificate {
  readonly certPath: string;
  readonly keyPath: string;
  private readonly log: FastifyBaseLogger;
  private readonly apply: (pair: CertPair, why: string) => void;
  private readonly pollMs: number;
  private readonly debounceMs: number;
  private debounce: NodeJS.Timeout | null = null;
  private loaded = '';
  private watching = false;

  constructor(opts: { certPath: string; keyPath: string; log: FastifyBaseLogger; apply: (pair: CertPair, why: string) => void; pollMs?: number; debounceMs?: number }) {
    this.certPath = opts.certPath;
    this.keyPath = opts.keyPath;
    this.log = opts.log;
    this.apply = opts.apply;
    this.pollMs = opts.pollMs ?? 2_000;
    this.debounceMs = opts.debounceMs ?? 1_000;
  }

  /** Read the pair now; throws TlsError (one line) if it is unusable. */
  load(): CertPair {
    return checkPair(read(this.certPath, 'certificate'), read(this.keyPath, 'key'), this.certPath, this.keyPath);
  }

  start(): void {
    const pair = this.load();
    this.loaded = pair.cert + pair.key;
    this.apply(pair, 'start');
    const onChange = (cur: Stats, prev: Stats) => {
      if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size && cur.ino === prev.ino) return;
      // Tools write the certificate and the key one after the other: wait for both.
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => {
        this.debounce = null;
        this.reload('file changed');
      }, this.debounceMs);
    };
    watchFile(this.certPath, { interval: this.pollMs, persistent: false }, onChange);
    watchFile(this.keyPath, { interval: this.pollMs, persistent: false }, onChange);
    this.watching = true;
  }

  /** Read the files again; a bad pair is logged and the served one kept. */
  reload(why: string): void {
    let pair: CertPair;
    try {
      pair = this.load();
    } catch (err) {
      this.log.error({ reason: why, err: (err as Error).message }, 'TLS certificate not reloaded: the files are not a usable pair; still serving the previous certificate');
      return;
    }
    if (pair.cert + pair.key === this.loaded) {
      this.log.info({ reason: why, serial: pair.info.serial }, 'TLS certificate unchanged');
      return;
    }
    this.loaded = pair.cert + pair.key;
    this.apply(pair, why);
  }

  close(): void {
    if (this.debounce) clearTimeout(this.debounce);
    if (!this.watching) return;
    unwatchFile(this.certPath);
    unwatchFile(this.keyPath);
    this.watching = false;
  }
}
