// Configuration: defaults < config file < WHARF_* environment < command-line flags.
// Every option is documented once, in docs/configuration.md.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { REPO_KINDS, type RepoKind } from '../core/model.ts';
import { isPostgresUrl } from '../db/database.ts';
import type { RepoSpec } from '../core/wharf.ts';
import { formats } from '../formats/index.ts';
import { parseS3Url } from '../storage/s3-blob-store.ts';

export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface Config {
  host: string;
  port: number;
  data: string;
  logLevel: string;
  /** `pretty` lines for people, `json` lines for machines, `auto`: pretty on a terminal. */
  logFormat: LogFormat;
  /** Largest accepted upload, in bytes. */
  maxUploadBytes: number;
  /** Seconds a request body may go without a byte before the request is cut (0: never). */
  bodyIdleTimeout: number;
  /** Seconds a response may wait for the client to take a byte before the connection is closed (0: never). */
  sendIdleTimeout: number;
  /** Most open connections per listening port (0: no limit); more are closed at once. */
  maxConnections: number;
  /** Password for the `admin` user created on first start (otherwise one is generated). */
  adminPassword?: string;
  /** Repositories to create (or update) at start. */
  repositories: RepoSpec[];
  /**
   * Addresses or CIDR ranges of reverse proxies whose `X-Forwarded-For` names the real client
   * (for the login throttle and logs). Empty: the connection's own address is the client.
   */
  trustedProxies: string[];
  /** gc frees an unreferenced blob only this long after its last commit (uploads in flight). */
  gcGraceSeconds: number;
  /** Audit entries older than this many days are deleted (hourly); 0 keeps them all (docs/security.md). */
  auditKeepDays: number;
  /** In-process caches, MiB each (docs/memory.md): published index documents; anonymous answers; parsed upstream data and proxy/group pages. */
  indexCacheMiB: number;
  responseCacheMiB: number;
  upstreamCacheMiB: number;
  /** HTTPS from PEM files (chain included), reloaded when they change or on SIGHUP. */
  tlsCert?: string;
  tlsKey?: string;
  /** HTTPS with certificates for these names from an ACME CA (kept in <data>/tls/). */
  acmeDomains: string[];
  acmeEmail?: string;
  /** The CA's ACME directory URL (`letsencrypt` and `letsencrypt-staging` name Let's Encrypt's). */
  acmeDirectory: string;
  /** Extra CA (PEM) trusted when talking to the ACME server, for a private CA such as pebble. */
  acmeCaCert?: string;
  /** Renew when less than this many days remain (default: a third of the certificate's lifetime). */
  acmeRenewBefore?: number;
  /** Plain HTTP port for ACME HTTP-01 challenges and the HTTPS redirect (default 80 when needed). */
  httpPort?: number;
  /** Redirect plain HTTP requests on httpPort to HTTPS. */
  httpRedirect: boolean;
  /** On SIGTERM/SIGINT, requests in flight get this long before their connections are cut. */
  shutdownGraceSeconds: number;
  /** A browser session unused this long (seconds) ends. */
  sessionIdleTimeout: number;
  /** A browser session ends this long (seconds) after sign-in. */
  sessionMaxAge: number;
  /** `postgres://…`: metadata in PostgreSQL (several replicas may share it); unset: SQLite in <data>/wharf.db. */
  database?: string;
  /** `s3://bucket/prefix`: blobs in an S3-compatible store; unset: files under <data>/blobs. */
  blobs?: string;
  /** The S3 API's URL (MinIO, Garage, Ceph RGW, R2); unset: AWS. */
  s3Endpoint?: string;
  s3Region?: string;
  /** Path-style URLs (http://host/bucket/key), which most servers other than AWS need. */
  s3ForcePathStyle: boolean;
  /** From the environment only (WHARF_S3_*); unset: the AWS SDK's chain (AWS_* variables, profiles, roles). */
  s3AccessKeyId?: string;
  s3SecretAccessKey?: string;
  /** Redirect downloads to S3 presigned URLs valid this many seconds; 0: stream through Wharf. */
  s3PresignSeconds: number;
  /** Write public hosted repositories' indexes and files here for a web server to send (docs/static.md); unset: off. */
  staticDir?: string;
  /** Processes serving the port (node:cluster), replicas of one another on PostgreSQL; 1: no cluster. */
  workers: number;
}

export const LETS_ENCRYPT = 'https://acme-v02.api.letsencrypt.org/directory';
const ACME_DIRECTORY_NAMES: Record<string, string> = {
  letsencrypt: LETS_ENCRYPT,
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
};

export const DEFAULTS: Config = {
  host: '127.0.0.1',
  port: 8080,
  data: './wharf-data',
  logLevel: 'info',
  logFormat: 'auto',
  maxUploadBytes: 10 * 1024 ** 3,
  bodyIdleTimeout: 60,
  sendIdleTimeout: 60,
  maxConnections: 0,
  repositories: [],
  trustedProxies: [],
  gcGraceSeconds: 3600,
  auditKeepDays: 0,
  indexCacheMiB: 64,
  responseCacheMiB: 32,
  upstreamCacheMiB: 128,
  sessionIdleTimeout: 12 * 3600,
  sessionMaxAge: 7 * 86400,
  acmeDomains: [],
  acmeDirectory: LETS_ENCRYPT,
  httpRedirect: false,
  shutdownGraceSeconds: 5,
  s3ForcePathStyle: false,
  s3PresignSeconds: 0,
  workers: 1,
};

const CACHE_OPTIONS = ['indexCacheMiB', 'responseCacheMiB', 'upstreamCacheMiB'] as const;

const TLS_FLAGS = ['tlsCert', 'tlsKey', 'acmeDomain', 'acmeEmail', 'acmeDirectory', 'acmeCaCert', 'acmeRenewBefore', 'httpPort', 'httpRedirect'] as const;
type TlsFlag = (typeof TLS_FLAGS)[number];

export interface ConfigSources {
  flags?: Partial<Record<'host' | 'port' | 'data' | 'config' | 'logLevel' | 'logFormat' | 'trustedProxies' | 'blobs' | 'database' | 'staticDir' | 'workers' | TlsFlag, string | string[] | number | boolean | undefined>>;
  env?: NodeJS.ProcessEnv;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function num(value: unknown, what: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(`${what} must be a non-negative number, not ${JSON.stringify(value)}`);
  return n;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function oneOf<T extends string>(value: unknown, allowed: readonly T[], what: string): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) throw new ConfigError(`${what} must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}`);
  return value as T;
}

/** `10.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`, as a list or comma-separated. */
function proxyList(value: unknown, what: string): string[] {
  const items = Array.isArray(value) ? value : String(value).split(',');
  const out: string[] = [];
  for (const raw of items) {
    const item = String(raw).trim();
    if (!item) continue;
    const [addr, bits, extra] = item.split('/');
    const family = isIP(addr);
    const maxBits = family === 4 ? 32 : 128;
    const bitsOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits);
    if (!family || !bitsOk || extra !== undefined) throw new ConfigError(`${what}: ${JSON.stringify(item)} is not an IP address or CIDR range`);
    out.push(item);
  }
  return out;
}

/** DNS names for certificates: `example.org`, `pkg.example.org`; a list or comma-separated. */
function domainList(value: unknown, what: string): string[] {
  const items = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(','));
  const out: string[] = [];
  for (const raw of items) {
    const name = raw.trim().toLowerCase().replace(/\.$/, '');
    if (!name) continue;
    // Wildcards need DNS-01, which Wharf does not do; IP addresses are not names.
    if (name.startsWith('*.')) throw new ConfigError(`${what}: ${JSON.stringify(name)}: wildcard names need the DNS-01 challenge, which Wharf does not do; list each name`);
    if (isIP(name) || !/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(name)) throw new ConfigError(`${what}: ${JSON.stringify(raw.trim())} is not a DNS name`);
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

function acmeDirectory(value: unknown, what: string): string {
  const v = String(value).trim();
  if (ACME_DIRECTORY_NAMES[v]) return ACME_DIRECTORY_NAMES[v];
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new ConfigError(`${what}: ${JSON.stringify(v)} is not a URL (or one of ${Object.keys(ACME_DIRECTORY_NAMES).join(', ')})`);
  }
  if (url.protocol !== 'https:') throw new ConfigError(`${what}: the ACME directory must be an https:// URL, not ${JSON.stringify(v)}`);
  return url.href;
}

/** Presigned URLs: whole seconds, 0 (off) up to S3's limit of 7 days. */
function presignSeconds(value: unknown, what: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 604800) throw new ConfigError(`${what}: expected whole seconds from 0 (off) to 604800 (7 days), got ${JSON.stringify(value)}`);
  return n;
}

function blobsUrl(value: unknown, what: string): string | undefined {
  const v = String(value).trim();
  if (!v) return undefined;
  try {
    parseS3Url(v);
  } catch (err) {
    throw new ConfigError(`${what}: ${(err as Error).message} (blobs on disk need no setting: they live under the data directory)`);
  }
  return v;
}

function databaseUrl(value: unknown, what: string): string | undefined {
  const v = String(value).trim();
  if (!v) return undefined;
  if (!isPostgresUrl(v)) {
    throw new ConfigError(`${what}: expected a PostgreSQL URL, postgres://USER:PASSWORD@HOST:PORT/DATABASE (SQLite needs no setting: it lives in the data directory)`);
  }
  try {
    new URL(v);
  } catch {
    throw new ConfigError(`${what}: not a valid URL (percent-encode special characters in the user name and password)`);
  }
  return v;
}

/** A database URL fit for a log line: its password replaced. */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}

function httpUrl(value: unknown, what: string): string {
  const v = String(value).trim();
  if (!/^https?:\/\/[^/]/.test(v)) throw new ConfigError(`${what} must be an http:// or https:// URL, not ${JSON.stringify(v)}`);
  return v;
}

function bool(value: unknown, what: string): boolean {
  if (typeof value === 'boolean') return value;
  const v = String(value).trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  throw new ConfigError(`${what} must be true or false, not ${JSON.stringify(value)}`);
}

function port(value: unknown, what: string): number {
  const n = num(value, what);
  if (!Number.isInteger(n) || n > 65535) throw new ConfigError(`${what} must be a port number (0-65535), not ${JSON.stringify(value)}`);
  return n;
}

/** Most workers accepted: far more than the cores of any machine Wharf is meant for. */
export const MAX_WORKERS = 64;

/** A whole number of worker processes, or `auto`: one per core Node may use. */
function workerCount(value: unknown, what: string): number {
  if (String(value).trim() === 'auto') return Math.min(availableParallelism(), MAX_WORKERS);
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) throw new ConfigError(`${what} must be a whole number from 1 to ${MAX_WORKERS}, or auto (one per core), not ${JSON.stringify(value)}`);
  return n;
}

/**
 * Several workers are replicas of one another: what keeps them from stepping on each other is
 * PostgreSQL's (advisory locks, the change feed read per request). Refused where that is missing.
 */
function checkWorkers(cfg: Config): void {
  if (cfg.workers <= 1) return;
  if (!cfg.database) {
    throw new ConfigError(`--workers ${cfg.workers} needs PostgreSQL (--database postgres://…, WHARF_DATABASE_URL): on SQLite the locks that keep two processes from publishing one repository at once are local to one process, so workers could corrupt each other's indexes. Run one worker, move the metadata to PostgreSQL (wharf migrate --database), or let nginx send public reads from the static tree (--static-dir, docs/static.md)`);
  }
  if (cfg.acmeDomains.length) {
    throw new ConfigError(`--workers ${cfg.workers} and --acme-domain exclude each other: each worker would order its own certificate and answer only its own HTTP-01 challenges. Give certificate files (--tls-cert/--tls-key, e.g. from certbot; every worker reloads them) or terminate TLS at a proxy`);
  }
}

/** The TLS options that only make sense together (named as the flags, which everyone sees). */
function checkTls(cfg: Config): void {
  if (Boolean(cfg.tlsCert) !== Boolean(cfg.tlsKey)) throw new ConfigError(`${cfg.tlsCert ? '--tls-cert needs --tls-key (WHARF_TLS_KEY, tlsKey)' : '--tls-key needs --tls-cert (WHARF_TLS_CERT, tlsCert)'}`);
  if (cfg.tlsCert && cfg.acmeDomains.length) throw new ConfigError('--tls-cert/--tls-key and --acme-domain exclude each other: give certificate files or let ACME get them, not both');
  if (cfg.acmeEmail !== undefined && !/^[^@\s]+@[^@\s]+$/.test(cfg.acmeEmail)) throw new ConfigError(`--acme-email: ${JSON.stringify(cfg.acmeEmail)} is not an e-mail address`);
  const tls = Boolean(cfg.tlsCert) || cfg.acmeDomains.length > 0;
  if (cfg.httpRedirect && !tls) throw new ConfigError('--http-redirect needs HTTPS: give --tls-cert/--tls-key or --acme-domain');
  if (cfg.httpPort !== undefined && cfg.httpPort === cfg.port && cfg.port !== 0) throw new ConfigError(`--http-port ${cfg.httpPort} is the HTTPS port (--port); choose another`);
  // HTTP-01 is validated on port 80 of each name; the redirect is wanted there too.
  if (cfg.httpPort === undefined && (cfg.acmeDomains.length || cfg.httpRedirect)) cfg.httpPort = 80;
}

const REPO_KEYS = ['name', 'format', 'kind', 'public', 'options'];

/**
 * One `repositories` entry, checked key by key so that a mistake is named by its JSON path
 * (`repositories[2].optons`). Options are checked by the format when the server starts.
 */
function repoEntry(r: unknown, path: string, file: string): RepoSpec {
  const fail = (msg: string) => new ConfigError(`${file}: ${msg}`);
  if (!r || typeof r !== 'object' || Array.isArray(r)) throw fail(`${path} must be an object with a name and a format`);
  const e = r as Record<string, unknown>;
  for (const k of Object.keys(e)) if (!REPO_KEYS.includes(k)) throw fail(`${path}.${k}: unknown key; known: ${REPO_KEYS.join(', ')}`);
  if (e.name === undefined) throw fail(`${path}.name is missing`);
  if (typeof e.name !== 'string') throw fail(`${path}.name must be a string`);
  if (e.format === undefined) throw fail(`${path}.format is missing`);
  const known = formats.map((f) => f.format);
  if (typeof e.format !== 'string' || !known.includes(e.format)) throw fail(`${path}.format: unknown format ${JSON.stringify(e.format)}; known: ${known.join(', ')}`);
  if (e.kind !== undefined && !REPO_KINDS.includes(e.kind as RepoKind)) throw fail(`${path}.kind: unknown kind ${JSON.stringify(e.kind)}; known: ${REPO_KINDS.join(', ')}`);
  if (e.public !== undefined && typeof e.public !== 'boolean') throw fail(`${path}.public must be true or false`);
  if (e.options !== undefined && (!e.options || typeof e.options !== 'object' || Array.isArray(e.options))) throw fail(`${path}.options must be an object`);
  return e as unknown as RepoSpec;
}

export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env;
  const flags = sources.flags ?? {};
  const cfg: Config = { ...DEFAULTS, repositories: [], trustedProxies: [], acmeDomains: [] };
  const file = (flags.config as string | undefined) ?? env.WHARF_CONFIG;
  if (file) {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
    }
    const known = new Set(['host', 'port', 'data', 'logLevel', 'logFormat', 'maxUploadBytes', 'bodyIdleTimeout', 'sendIdleTimeout', 'maxConnections', 'adminPassword', 'repositories', 'trustedProxies', 'gcGraceSeconds', 'auditKeepDays',
      'indexCacheMiB', 'responseCacheMiB', 'upstreamCacheMiB',
      'tlsCert', 'tlsKey', 'acmeDomains', 'acmeEmail', 'acmeDirectory', 'acmeCaCert', 'acmeRenewBefore', 'httpPort', 'httpRedirect', 'shutdownGraceSeconds', 'sessionIdleTimeout', 'sessionMaxAge',
      'database', 'blobs', 's3Endpoint', 's3Region', 's3ForcePathStyle', 's3PresignSeconds', 'staticDir', 'workers']);
    for (const k of Object.keys(parsed)) if (!known.has(k)) throw new ConfigError(`${file}: unknown option ${JSON.stringify(k)}`);
    if (parsed.host !== undefined) cfg.host = String(parsed.host);
    if (parsed.port !== undefined) cfg.port = num(parsed.port, 'port');
    if (parsed.data !== undefined) cfg.data = resolve(resolve(file, '..'), String(parsed.data));
    if (parsed.logLevel !== undefined) cfg.logLevel = oneOf(parsed.logLevel, LOG_LEVELS, 'logLevel');
    if (parsed.logFormat !== undefined) cfg.logFormat = oneOf(parsed.logFormat, LOG_FORMATS, 'logFormat');
    if (parsed.maxUploadBytes !== undefined) cfg.maxUploadBytes = num(parsed.maxUploadBytes, 'maxUploadBytes');
    if (parsed.gcGraceSeconds !== undefined) cfg.gcGraceSeconds = num(parsed.gcGraceSeconds, 'gcGraceSeconds');
    if (parsed.auditKeepDays !== undefined) cfg.auditKeepDays = num(parsed.auditKeepDays, 'auditKeepDays');
    for (const k of CACHE_OPTIONS) if (parsed[k] !== undefined) cfg[k] = num(parsed[k], k);
    if (parsed.shutdownGraceSeconds !== undefined) cfg.shutdownGraceSeconds = num(parsed.shutdownGraceSeconds, 'shutdownGraceSeconds');
    if (parsed.sessionIdleTimeout !== undefined) cfg.sessionIdleTimeout = num(parsed.sessionIdleTimeout, 'sessionIdleTimeout');
    if (parsed.sessionMaxAge !== undefined) cfg.sessionMaxAge = num(parsed.sessionMaxAge, 'sessionMaxAge');
    if (parsed.bodyIdleTimeout !== undefined) cfg.bodyIdleTimeout = num(parsed.bodyIdleTimeout, 'bodyIdleTimeout');
    if (parsed.sendIdleTimeout !== undefined) cfg.sendIdleTimeout = num(parsed.sendIdleTimeout, 'sendIdleTimeout');
    if (parsed.maxConnections !== undefined) cfg.maxConnections = num(parsed.maxConnections, 'maxConnections');
    if (parsed.adminPassword !== undefined) cfg.adminPassword = String(parsed.adminPassword);
    if (parsed.trustedProxies !== undefined) cfg.trustedProxies = proxyList(parsed.trustedProxies, 'trustedProxies');
    const here = (p: unknown) => resolve(resolve(file, '..'), String(p));
    if (parsed.tlsCert !== undefined) cfg.tlsCert = here(parsed.tlsCert);
    if (parsed.tlsKey !== undefined) cfg.tlsKey = here(parsed.tlsKey);
    if (parsed.acmeDomains !== undefined) cfg.acmeDomains = domainList(parsed.acmeDomains, 'acmeDomains');
    if (parsed.acmeEmail !== undefined) cfg.acmeEmail = String(parsed.acmeEmail);
    if (parsed.acmeDirectory !== undefined) cfg.acmeDirectory = acmeDirectory(parsed.acmeDirectory, 'acmeDirectory');
    if (parsed.acmeCaCert !== undefined) cfg.acmeCaCert = here(parsed.acmeCaCert);
    if (parsed.acmeRenewBefore !== undefined) cfg.acmeRenewBefore = num(parsed.acmeRenewBefore, 'acmeRenewBefore');
    if (parsed.httpPort !== undefined) cfg.httpPort = port(parsed.httpPort, 'httpPort');
    if (parsed.httpRedirect !== undefined) cfg.httpRedirect = bool(parsed.httpRedirect, 'httpRedirect');
    if (parsed.database !== undefined) cfg.database = databaseUrl(parsed.database, 'database');
    if (parsed.blobs !== undefined) cfg.blobs = blobsUrl(parsed.blobs, 'blobs');
    if (parsed.s3Endpoint !== undefined) cfg.s3Endpoint = httpUrl(parsed.s3Endpoint, 's3Endpoint');
    if (parsed.s3Region !== undefined) cfg.s3Region = String(parsed.s3Region);
    if (parsed.s3PresignSeconds !== undefined) cfg.s3PresignSeconds = presignSeconds(parsed.s3PresignSeconds, 's3PresignSeconds');
    if (parsed.s3ForcePathStyle !== undefined) cfg.s3ForcePathStyle = bool(parsed.s3ForcePathStyle, 's3ForcePathStyle');
    if (parsed.staticDir !== undefined) cfg.staticDir = here(parsed.staticDir);
    if (parsed.workers !== undefined) cfg.workers = workerCount(parsed.workers, 'workers');
    if (parsed.repositories !== undefined) {
      if (!Array.isArray(parsed.repositories)) throw new ConfigError(`${file}: repositories must be a list`);
      cfg.repositories = parsed.repositories.map((r, i) => repoEntry(r, `repositories[${i}]`, file));
    }
  }
  if (env.WHARF_HOST) cfg.host = env.WHARF_HOST;
  if (env.WHARF_PORT) cfg.port = num(env.WHARF_PORT, 'WHARF_PORT');
  if (env.WHARF_DATA) cfg.data = env.WHARF_DATA;
  if (env.WHARF_LOG_LEVEL) cfg.logLevel = oneOf(env.WHARF_LOG_LEVEL, LOG_LEVELS, 'WHARF_LOG_LEVEL');
  if (env.WHARF_LOG_FORMAT) cfg.logFormat = oneOf(env.WHARF_LOG_FORMAT, LOG_FORMATS, 'WHARF_LOG_FORMAT');
  if (env.WHARF_MAX_UPLOAD_BYTES) cfg.maxUploadBytes = num(env.WHARF_MAX_UPLOAD_BYTES, 'WHARF_MAX_UPLOAD_BYTES');
  if (env.WHARF_GC_GRACE_SECONDS) cfg.gcGraceSeconds = num(env.WHARF_GC_GRACE_SECONDS, 'WHARF_GC_GRACE_SECONDS');
  if (env.WHARF_AUDIT_KEEP_DAYS) cfg.auditKeepDays = num(env.WHARF_AUDIT_KEEP_DAYS, 'WHARF_AUDIT_KEEP_DAYS');
  if (env.WHARF_INDEX_CACHE_MIB) cfg.indexCacheMiB = num(env.WHARF_INDEX_CACHE_MIB, 'WHARF_INDEX_CACHE_MIB');
  if (env.WHARF_RESPONSE_CACHE_MIB) cfg.responseCacheMiB = num(env.WHARF_RESPONSE_CACHE_MIB, 'WHARF_RESPONSE_CACHE_MIB');
  if (env.WHARF_UPSTREAM_CACHE_MIB) cfg.upstreamCacheMiB = num(env.WHARF_UPSTREAM_CACHE_MIB, 'WHARF_UPSTREAM_CACHE_MIB');
  if (env.WHARF_SHUTDOWN_GRACE_SECONDS) cfg.shutdownGraceSeconds = num(env.WHARF_SHUTDOWN_GRACE_SECONDS, 'WHARF_SHUTDOWN_GRACE_SECONDS');
  if (env.WHARF_SESSION_IDLE_TIMEOUT) cfg.sessionIdleTimeout = num(env.WHARF_SESSION_IDLE_TIMEOUT, 'WHARF_SESSION_IDLE_TIMEOUT');
  if (env.WHARF_SESSION_MAX_AGE) cfg.sessionMaxAge = num(env.WHARF_SESSION_MAX_AGE, 'WHARF_SESSION_MAX_AGE');
  if (env.WHARF_BODY_IDLE_TIMEOUT) cfg.bodyIdleTimeout = num(env.WHARF_BODY_IDLE_TIMEOUT, 'WHARF_BODY_IDLE_TIMEOUT');
  if (env.WHARF_SEND_IDLE_TIMEOUT) cfg.sendIdleTimeout = num(env.WHARF_SEND_IDLE_TIMEOUT, 'WHARF_SEND_IDLE_TIMEOUT');
  if (env.WHARF_MAX_CONNECTIONS) cfg.maxConnections = num(env.WHARF_MAX_CONNECTIONS, 'WHARF_MAX_CONNECTIONS');
  if (env.WHARF_ADMIN_PASSWORD) cfg.adminPassword = env.WHARF_ADMIN_PASSWORD;
  if (env.WHARF_TRUSTED_PROXIES !== undefined) cfg.trustedProxies = proxyList(env.WHARF_TRUSTED_PROXIES, 'WHARF_TRUSTED_PROXIES');
  if (env.WHARF_TLS_CERT) cfg.tlsCert = env.WHARF_TLS_CERT;
  if (env.WHARF_TLS_KEY) cfg.tlsKey = env.WHARF_TLS_KEY;
  if (env.WHARF_ACME_DOMAIN) cfg.acmeDomains = domainList(env.WHARF_ACME_DOMAIN, 'WHARF_ACME_DOMAIN');
  if (env.WHARF_ACME_EMAIL) cfg.acmeEmail = env.WHARF_ACME_EMAIL;
  if (env.WHARF_ACME_DIRECTORY) cfg.acmeDirectory = acmeDirectory(env.WHARF_ACME_DIRECTORY, 'WHARF_ACME_DIRECTORY');
  if (env.WHARF_ACME_CA_CERT) cfg.acmeCaCert = env.WHARF_ACME_CA_CERT;
  if (env.WHARF_ACME_RENEW_BEFORE) cfg.acmeRenewBefore = num(env.WHARF_ACME_RENEW_BEFORE, 'WHARF_ACME_RENEW_BEFORE');
  if (env.WHARF_HTTP_PORT) cfg.httpPort = port(env.WHARF_HTTP_PORT, 'WHARF_HTTP_PORT');
  if (env.WHARF_HTTP_REDIRECT) cfg.httpRedirect = bool(env.WHARF_HTTP_REDIRECT, 'WHARF_HTTP_REDIRECT');
  if (env.WHARF_DATABASE_URL !== undefined) cfg.database = databaseUrl(env.WHARF_DATABASE_URL, 'WHARF_DATABASE_URL');
  if (env.WHARF_BLOBS !== undefined) cfg.blobs = blobsUrl(env.WHARF_BLOBS, 'WHARF_BLOBS');
  if (env.WHARF_S3_ENDPOINT) cfg.s3Endpoint = httpUrl(env.WHARF_S3_ENDPOINT, 'WHARF_S3_ENDPOINT');
  if (env.WHARF_S3_REGION) cfg.s3Region = env.WHARF_S3_REGION;
  if (env.WHARF_S3_PRESIGN_SECONDS !== undefined && env.WHARF_S3_PRESIGN_SECONDS !== '') cfg.s3PresignSeconds = presignSeconds(env.WHARF_S3_PRESIGN_SECONDS, 'WHARF_S3_PRESIGN_SECONDS');
  if (env.WHARF_S3_FORCE_PATH_STYLE) cfg.s3ForcePathStyle = bool(env.WHARF_S3_FORCE_PATH_STYLE, 'WHARF_S3_FORCE_PATH_STYLE');
  if (env.WHARF_S3_ACCESS_KEY_ID) cfg.s3AccessKeyId = env.WHARF_S3_ACCESS_KEY_ID;
  if (env.WHARF_S3_SECRET_ACCESS_KEY) cfg.s3SecretAccessKey = env.WHARF_S3_SECRET_ACCESS_KEY;
  if (Boolean(cfg.s3AccessKeyId) !== Boolean(cfg.s3SecretAccessKey)) throw new ConfigError('WHARF_S3_ACCESS_KEY_ID and WHARF_S3_SECRET_ACCESS_KEY go together: give both, or neither to use the AWS variables');
  if (env.WHARF_STATIC_DIR) cfg.staticDir = env.WHARF_STATIC_DIR;
  if (env.WHARF_WORKERS) cfg.workers = workerCount(env.WHARF_WORKERS, 'WHARF_WORKERS');
  if (flags.host !== undefined) cfg.host = String(flags.host);
  if (flags.port !== undefined) cfg.port = num(flags.port, '--port');
  if (flags.data !== undefined) cfg.data = String(flags.data);
  if (flags.logLevel !== undefined) cfg.logLevel = oneOf(flags.logLevel, LOG_LEVELS, '--log-level');
  if (flags.logFormat !== undefined) cfg.logFormat = oneOf(flags.logFormat, LOG_FORMATS, '--log-format');
  if (flags.trustedProxies !== undefined) cfg.trustedProxies = proxyList(flags.trustedProxies, '--trusted-proxies');
  if (flags.database !== undefined) cfg.database = databaseUrl(flags.database, '--database');
  if (flags.blobs !== undefined) cfg.blobs = blobsUrl(flags.blobs, '--blobs');
  if (flags.tlsCert !== undefined) cfg.tlsCert = String(flags.tlsCert);
  if (flags.tlsKey !== undefined) cfg.tlsKey = String(flags.tlsKey);
  if (flags.acmeDomain !== undefined) cfg.acmeDomains = domainList(flags.acmeDomain, '--acme-domain');
  if (flags.acmeEmail !== undefined) cfg.acmeEmail = String(flags.acmeEmail);
  if (flags.acmeDirectory !== undefined) cfg.acmeDirectory = acmeDirectory(flags.acmeDirectory, '--acme-directory');
  if (flags.acmeCaCert !== undefined) cfg.acmeCaCert = String(flags.acmeCaCert);
  if (flags.acmeRenewBefore !== undefined) cfg.acmeRenewBefore = num(flags.acmeRenewBefore, '--acme-renew-before');
  if (flags.httpPort !== undefined) cfg.httpPort = port(flags.httpPort, '--http-port');
  if (flags.httpRedirect !== undefined) cfg.httpRedirect = bool(flags.httpRedirect, '--http-redirect');
  if (flags.staticDir !== undefined) cfg.staticDir = String(flags.staticDir);
  if (flags.workers !== undefined) cfg.workers = workerCount(flags.workers, '--workers');
  cfg.data = resolve(cfg.data);
  if (cfg.staticDir) cfg.staticDir = resolve(cfg.staticDir);
  for (const k of ['tlsCert', 'tlsKey', 'acmeCaCert'] as const) if (cfg[k]) cfg[k] = resolve(cfg[k]);
  checkTls(cfg);
  checkWorkers(cfg);
  return cfg;
}
