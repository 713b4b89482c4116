// Configuration: defaults < config file < WHARF_* environment < command-line flags.
// Every option is documented once, in docs/configuration.md.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { REPO_KINDS, type RepoKind } from '../core/model.ts';
import type { RepoSpec } from '../core/wharf.ts';
import { formats } from '../formats/index.ts';

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
}

export const DEFAULTS: Config = {
  host: '127.0.0.1',
  port: 8080,
  data: './wharf-data',
  logLevel: 'info',
  logFormat: 'auto',
  maxUploadBytes: 10 * 1024 ** 3,
  bodyIdleTimeout: 60,
  repositories: [],
  trustedProxies: [],
  gcGraceSeconds: 3600,
};

export interface ConfigSources {
  flags?: Partial<Record<'host' | 'port' | 'data' | 'config' | 'logLevel' | 'logFormat' | 'trustedProxies', string | number | undefined>>;
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
  const cfg: Config = { ...DEFAULTS, repositories: [], trustedProxies: [] };
  const file = (flags.config as string | undefined) ?? env.WHARF_CONFIG;
  if (file) {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
    }
    const known = new Set(['host', 'port', 'data', 'logLevel', 'logFormat', 'maxUploadBytes', 'bodyIdleTimeout', 'adminPassword', 'repositories', 'trustedProxies', 'gcGraceSeconds']);
    for (const k of Object.keys(parsed)) if (!known.has(k)) throw new ConfigError(`${file}: unknown option ${JSON.stringify(k)}`);
    if (parsed.host !== undefined) cfg.host = String(parsed.host);
    if (parsed.port !== undefined) cfg.port = num(parsed.port, 'port');
    if (parsed.data !== undefined) cfg.data = resolve(resolve(file, '..'), String(parsed.data));
    if (parsed.logLevel !== undefined) cfg.logLevel = oneOf(parsed.logLevel, LOG_LEVELS, 'logLevel');
    if (parsed.logFormat !== undefined) cfg.logFormat = oneOf(parsed.logFormat, LOG_FORMATS, 'logFormat');
    if (parsed.maxUploadBytes !== undefined) cfg.maxUploadBytes = num(parsed.maxUploadBytes, 'maxUploadBytes');
    if (parsed.gcGraceSeconds !== undefined) cfg.gcGraceSeconds = num(parsed.gcGraceSeconds, 'gcGraceSeconds');
    if (parsed.bodyIdleTimeout !== undefined) cfg.bodyIdleTimeout = num(parsed.bodyIdleTimeout, 'bodyIdleTimeout');
    if (parsed.adminPassword !== undefined) cfg.adminPassword = String(parsed.adminPassword);
    if (parsed.trustedProxies !== undefined) cfg.trustedProxies = proxyList(parsed.trustedProxies, 'trustedProxies');
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
  if (env.WHARF_BODY_IDLE_TIMEOUT) cfg.bodyIdleTimeout = num(env.WHARF_BODY_IDLE_TIMEOUT, 'WHARF_BODY_IDLE_TIMEOUT');
  if (env.WHARF_ADMIN_PASSWORD) cfg.adminPassword = env.WHARF_ADMIN_PASSWORD;
  if (env.WHARF_TRUSTED_PROXIES !== undefined) cfg.trustedProxies = proxyList(env.WHARF_TRUSTED_PROXIES, 'WHARF_TRUSTED_PROXIES');
  if (flags.host !== undefined) cfg.host = String(flags.host);
  if (flags.port !== undefined) cfg.port = num(flags.port, '--port');
  if (flags.data !== undefined) cfg.data = String(flags.data);
  if (flags.logLevel !== undefined) cfg.logLevel = oneOf(flags.logLevel, LOG_LEVELS, '--log-level');
  if (flags.logFormat !== undefined) cfg.logFormat = oneOf(flags.logFormat, LOG_FORMATS, '--log-format');
  if (flags.trustedProxies !== undefined) cfg.trustedProxies = proxyList(flags.trustedProxies, '--trusted-proxies');
  cfg.data = resolve(cfg.data);
  return cfg;
}
