// A certificate kept by ACME: loaded from <data>/tls/ at start, or ordered before the server
// listens if there is none (or it was ordered from another CA or for other names); renewed in
// the background when less than `renewBefore` remains (default: a third of its lifetime),
// checked at start, once a day and on SIGHUP. A failed renewal keeps the old certificate and
// is tried again an hour later.
import type { FastifyBaseLogger } from 'fastify';
import { AcmeIssuer, newKey, type AcmeSettings } from './acme-issuer.ts';
import { CertStore } from './cert-store.ts';
import { checkPair, type CertPair } from './pem.ts';

const DAY_MS = 24 * 3600 * 1000;
const RETRY_MS = 3600 * 1000;

export interface AcmeCertificateOptions extends AcmeSettings {
  dataDir: string;
  domains: string[];
  /** Renew when less than this many days remain; default a third of the lifetime. */
  renewBeforeDays?: number;
  challenges: Map<string, string>;
  log: FastifyBaseLogger;
  apply: (pair: CertPair, why: string) => void;
}

export class AcmeCertificate {
  private readonly opts: AcmeCertificateOptions;
  private readonly store: CertStore;
  private readonly issuer: AcmeIssuer;
  private current: CertPair | null = null;
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(opts: AcmeCertificateOptions) {
    this.opts = opts;
    this.store = new CertStore(opts.dataDir);
    this.issuer = new AcmeIssuer(opts, opts.challenges, opts.log);
  }

  /** When the current certificate should be renewed. */
  renewAt(pair: CertPair): number {
    const { notBefore, notAfter } = pair.info;
    const before = this.opts.renewBeforeDays !== undefined ? this.opts.renewBeforeDays * DAY_MS : (notAfter.getTime() - notBefore.getTime()) / 3;
    return notAfter.getTime() - before;
  }

  /** Load or order the certificate; throws TlsError if there is none and none can be had. */
  async start(): Promise<void> {
    const stored = this.store.load();
    const { directory, domains } = this.opts;
    const fits = stored && stored.meta.directory === directory && domains.every((d) => stored.pair.info.names.includes(d)) && stored.pair.info.notAfter.getTime() > Date.now();
    if (stored && fits) {
      this.current = stored.pair;
      this.opts.apply(stored.pair, 'loaded from the data directory');
      this.schedule(0);
    } else {
      if (stored) this.opts.log.info({ had: stored.meta, want: { directory, domains } }, 'the stored certificate is for another CA or other names, or has expired: ordering a new one');
      await this.renew('no certificate yet');
      this.schedule(DAY_MS);
    }
  }

  /** Renew now if due (SIGHUP, the daily timer). */
  async check(why: string): Promise<void> {
    if (this.current && Date.now() < this.renewAt(this.current)) {
      this.opts.log.info({ reason: why, serial: this.current.info.serial, renewAt: new Date(this.renewAt(this.current)).toISOString() }, 'TLS certificate not due for renewal');
      return;
    }
    await this.renew(why);
  }

  private async renew(why: string): Promise<void> {
    // One order at a time: a SIGHUP during an order waits for it.
    if (this.running) return this.running;
    this.running = (async () => {
      const { log, domains, directory } = this.opts;
      let accountKey = this.store.accountKey();
      if (!accountKey) {
        accountKey = await newKey();
        this.store.saveAccountKey(accountKey);
      }
      log.info({ reason: why, domains, directory }, 'ordering a TLS certificate over ACME');
      const { cert, key } = await this.issuer.issue(accountKey, domains);
      const pair = checkPair(cert, key, 'the certificate from the CA', 'its key');
      this.store.save(cert, key, { directory, domains });
      this.current = pair;
      this.opts.apply(pair, `ACME (${why})`);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Check after `delayMs`, then daily; after a failure, an hour later. */
  private schedule(delayMs: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.check('scheduled check').then(
        () => this.schedule(DAY_MS),
        (err: Error) => {
          this.opts.log.error({ err: err.message, retryInSeconds: RETRY_MS / 1000 }, 'TLS certificate renewal failed; still serving the current certificate');
          this.schedule(RETRY_MS);
        },
      );
    }, delayMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    // An order under way is let finish (it is counted against the CA's rate limits), briefly.
    if (this.running) await Promise.race([this.running.catch(() => {}), new Promise((r) => setTimeout(r, 10_000).unref())]);
  }
}
