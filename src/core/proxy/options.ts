// Options every proxy repository has, whatever its format: where the upstream is, how to
// log in to it, how long its metadata is trusted, and whether to contact it at all.
import { badRequest } from '../errors.ts';

export interface ProxyOptions {
  /** Base URL of the upstream repository (for PyPI: its simple index, e.g. https://pypi.org/simple/). */
  upstream: string;
  username?: string;
  password?: string;
  /** Seconds an upstream index/page is used before it is checked again. */
  metadataTtl: number;
  /** Seconds an upstream "not found" is remembered. */
  negativeTtl: number;
  /** Seconds to wait for the upstream before serving from the cache (or failing). */
  timeout: number;
  /** Never contact the upstream: serve only what is cached. */
  offline: boolean;
}

export const PROXY_OPTION_KEYS = ['upstream', 'username', 'password', 'metadataTtl', 'negativeTtl', 'timeout', 'offline'] as const;

const seconds = (v: unknown, name: string, dflt: number): number => {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw badRequest(`${name} must be a number of seconds`);
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
  return {
    upstream: url.toString(),
    ...(options.username !== undefined ? { username: options.username as string } : {}),
    ...(options.password !== undefined ? { password: options.password as string } : {}),
    metadataTtl: seconds(options.metadataTtl, 'metadataTtl', 600),
    negativeTtl: seconds(options.negativeTtl, 'negativeTtl', 60),
    timeout: seconds(options.timeout, 'timeout', 30),
    offline: options.offline === true,
  };
}

/** The proxy options out of a repository's options (already normalized). */
export function proxyOptionsOf(options: Record<string, unknown>): ProxyOptions {
  return options as unknown as ProxyOptions;
}
