// Orders a certificate from an ACME CA (RFC 8555) with the acme-client library, proving
// control of each name with HTTP-01 answered by HttpListener.
import acme from 'acme-client';
import { Agent, get } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { FastifyBaseLogger } from 'fastify';
import { TlsError } from './errors.ts';

export interface AcmeSettings {
  directory: string;
  email?: string;
  /** PEM of an extra CA to trust for the ACME server's own HTTPS (a private CA). */
  caCert?: string;
}

/** Start a new key (ECDSA P-256: small and fast, accepted by every client). */
export async function newKey(): Promise<string> {
  return (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
}

let loggerSet = false;

/** Why an order failed, in one line (a CA's problem document, or the connection error). */
function reason(err: unknown, directory: string): string {
  const e = err as Error & { code?: string };
  const msg = e?.message ?? String(err);
  if (e?.code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(e.code)) {
    return `the ACME server's HTTPS certificate is not trusted (${e.code}); for a private CA give its root with --acme-ca-cert (WHARF_ACME_CA_CERT) or NODE_EXTRA_CA_CERTS`;
  }
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN' || e?.code === 'ETIMEDOUT') return `cannot reach ${directory} (${e.code})`;
  const line = msg.replace(/\s+/g, ' ');
  // The CA could not fetch the challenge: it must reach the plain HTTP port at each name.
  if (/acme-challenge/.test(line)) return `${line} (the CA fetches http://<name>/.well-known/acme-challenge/… on port 80: each name must resolve to this server, and port 80 reach --http-port)`;
  return line;
}

export class AcmeIssuer {
  private readonly settings: AcmeSettings;
  private readonly challenges: Map<string, string>;
  private readonly log: FastifyBaseLogger;
  private readonly agent: Agent | undefined;

  constructor(settings: AcmeSettings, challenges: Map<string, string>, log: FastifyBaseLogger) {
    this.settings = settings;
    this.challenges = challenges;
    this.log = log;
    // acme-client talks through one shared axios instance: a process has one ACME server.
    this.agent = settings.caCert ? new Agent({ ca: [...rootCertificates, settings.caCert], keepAlive: true }) : undefined;
    if (this.agent) acme.axios.defaults.httpsAgent = this.agent;
    if (!loggerSet) {
      loggerSet = true;
      acme.setLogger((m: string) => this.log.debug({ acme: m }, 'acme-client'));
    }
  }

  /**
   * Fetch the directory once, without acme-client's retries (meant for a CA's 5xx and 429):
   * an untrusted or unreachable server is said at once instead of after a minute of retries.
   */
  private reachable(): Promise<void> {
    const url = this.settings.directory;
    return new Promise((resolve, reject) => {
      const req = get(url, { agent: this.agent, timeout: 30_000 }, (res) => {
        res.resume();
        if (res.statusCode === 200) resolve();
        else reject(new Error(`the directory ${url} answered HTTP ${res.statusCode}`));
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
    });
  }

  /** Order a certificate for `domains`; resolves to the chain (PEM, leaf first) and its key. */
  async issue(accountKey: string, domains: string[]): Promise<{ cert: string; key: string }> {
    await this.reachable().catch((err: unknown) => {
      throw new TlsError(`could not get a certificate for ${domains.join(', ')} from ${this.settings.directory}: ${reason(err, this.settings.directory)}`);
    });
    const client = new acme.Client({ directoryUrl: this.settings.directory, accountKey });
    const key = await newKey();
    const [, csr] = await acme.crypto.createCsr({ commonName: domains[0], altNames: domains }, key);
    try {
      const cert = await client.auto({
        csr,
        email: this.settings.email,
        // Asking for a certificate with --acme-domain is taken as agreeing to the CA's terms.
        termsOfServiceAgreed: true,
        // The CA checks the answer itself; a check from here would fail behind NAT without hairpinning.
        skipChallengeVerification: true,
        challengePriority: ['http-01'],
        challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
          if (challenge.type !== 'http-01') throw new Error(`the CA offers no http-01 challenge (only ${challenge.type}), and Wharf answers http-01 only`);
          this.challenges.set(challenge.token, keyAuthorization);
        },
        challengeRemoveFn: async (_authz, challenge) => {
          this.challenges.delete(challenge.token);
        },
      });
      return { cert, key };
    } catch (err) {
      throw new TlsError(`could not get a certificate for ${domains.join(', ')} from ${this.settings.directory}: ${reason(err, this.settings.directory)}`);
    }
  }
}
