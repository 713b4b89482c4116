// Options every proxy repository has, whatever its format: where the upstream is, how to
// log in to it, how long its metadata is trusted, how long to wait for it, when to stop asking
// it for a while, and whether to contact it at all.
import { badRequest } from '../errors.ts';
import { parseByteSize, parseDuration } from './cache-limits.ts';

export interface ProxyOptions {
  /** Base URL of the upstream repository (for PyPI: its simple index, e.g. https://pypi.org/simple/). */
  upstream: string;
  username?: string;
  password?: string;
  /** Seconds an upstream index/page is used before it is checked again. */
  metadataTtl: number;
  /** Seconds an upstream "not found" is remembered. */
  negativeTtl: number;
  /** Seconds to wait for the upstream's answer (its headers) before serving from the cache (or failing). */
  timeout: number;
  /** Seconds a body may pause between two chunks: a download that keeps arriving is never cut off. */
  idleTimeout: number;
  /** Largest upstream metadata answer (page, index, db, listing) read into memory, bytes: more is an upstream failure. */
  maxMetadataBytes: number;
  /** Consecutive failures after which the upstream is not asked for `failTimeout` seconds (0: never). */
  maxFails: number;
  /** Seconds the upstream rests after `maxFails` failures: stale copies are served at once meanwhile. */
  failTimeout: number;
  /** Never contact the upstream: serve only what is cached. */
  offline: boolean;
  /** Bytes of cached upstream content kept at most (least recently used evicted first); absent: no limit. */
  maxCacheBytes?: number;
  /** Seconds after which cached content no client was served is evicted; absent: never. */
  evictUnusedAfter?: number;
}

export const PROXY_OPTION_KEYS = ['upstream', 'username', 'password', 'metadataTtl', 'negativeTtl', 'timeout', 'idleTimeout', 'maxMetadataBytes', 'maxFails', 'failTimeout', 'offline', 'maxCacheBytes', 'evictUnusedAfter'] as const;

const DEFAULTS = { metadataTtl: 600, negativeTtl: 60, timeout: 30, maxFails: 3, failTimeout: 60, maxMetadataBytes: 256 * 1024 * 1024 };

const seconds = (v: unknown, name: string, dflt: number): number => {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw badRequest(`${name} must be a number of seconds`);
  return v;
};

const positive = (v: unknown, name: string, dflt: number): number => {
  const n = seconds(v, name, dflt);
  if (n <= 0) throw badRequest(`${name} must be more than 0 seconds`);
  return n;
};

const count = (v: unknown, name: string, dflt: number): number => {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw badRequest(`${name} must be a whole number (0 turns it off)`);
  return v;
};

const bytes = (v: unknown, name: string, dflt: number): number => {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw badRequest(`${name} must be a whole number of bytes, more than 0`);
  return v;
};

export function normalizeProxyOptions(options: Record<string, unknown>): ProxyOptions {
  const upstream = options.upstream;
  if (typeof upstream !== 'string') throw badRequest('a proxy repository needs an "upstream" URL');
  let url: URL;
  try {
    url = new URL(upstream);
  } catch {
    throw badRequest(`upstream is not a URL: ${JSON.stringify(upstream)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest('upstream must be an http or https URL');
  if (url.username || url.password) throw badRequest('give upstream credentials as "username" and "password", not in the URL');
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  for (const k of ['username', 'password'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'string') throw badRequest(`${k} must be a string`);
  }
  if (options.offline !== undefined && typeof options.offline !== 'boolean') throw badRequest('offline must be true or false');
  const timeout = positive(options.timeout, 'timeout', DEFAULTS.timeout);
  return {
    upstream: url.toString(),
    ...(options.username !== undefined ? { username: options.username as string } : {}),
    ...(options.password !== undefined ? { password: options.password as string } : {}),
    metadataTtl: seconds(options.metadataTtl, 'metadataTtl', DEFAULTS.metadataTtl),
    negativeTtl: seconds(options.negativeTtl, 'negativeTtl', DEFAULTS.negativeTtl),
    timeout: positive(options.timeout, 'timeout', timeout),
    idleTimeout: positive(options.idleTimeout, 'idleTimeout', timeout),
    maxMetadataBytes: bytes(options.maxMetadataBytes, 'maxMetadataBytes', DEFAULTS.maxMetadataBytes),
    maxFails: count(options.maxFails, 'maxFails', DEFAULTS.maxFails),
    failTimeout: seconds(options.failTimeout, 'failTimeout', DEFAULTS.failTimeout),
    offline: options.offline === true,
    ...(options.maxCacheBytes !== undefined && options.maxCacheBytes !== null ? { maxCacheBytes: parseByteSize(options.maxCacheBytes, 'maxCacheBytes') } : {}),
    ...(options.evictUnusedAfter !== undefined && options.evictUnusedAfter !== null ? { evictUnusedAfter: parseDuration(options.evictUnusedAfter, 'evictUnusedAfter') } : {}),
  };
}

/** The proxy options out of a repository's options (normalized; repositories made before an option existed get its default). */
export function proxyOptionsOf(options: Record<string, unknown>): ProxyOptions {
  const o = options as unknown as Partial<ProxyOptions> & { upstream: string };
  if (o.idleTimeout !== undefined && o.maxFails !== undefined && o.failTimeout !== undefined && o.maxMetadataBytes !== undefined) return o as ProxyOptions;
  const timeout = o.timeout ?? DEFAULTS.timeout;
  return { ...DEFAULTS, ...o, timeout, idleTimeout: o.idleTimeout ?? timeout, maxFails: o.maxFails ?? DEFAULTS.maxFails, failTimeout: o.failTimeout ?? DEFAULTS.failTimeout, maxMetadataBytes: o.maxMetadataBytes ?? DEFAULTS.maxMetadataBytes } as ProxyOptions;
}
