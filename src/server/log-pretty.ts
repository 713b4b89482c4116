// Log lines for people at a terminal. pino writes one JSON object per line; this turns each
// into `12:04:05.123 INFO  request GET /pypi/simple/ 200 2.1ms 10.0.0.7 reqId=req-3`
// (a request's host header and client port are left to the JSON log). It is a few
// dozen lines of our own rather than pino-pretty and its dependencies (docs/dependencies.md).

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLORS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };
/** Keys every line has, or that are shown in the line's head rather than as key=value. */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'req', 'res', 'responseTime', 'err']);

function clock(ms: unknown): string {
  const d = typeof ms === 'number' ? new Date(ms) : new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function scalar(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** Nested objects flatten to dotted keys: `{a:{b:1}}` is `a.b=1`. */
function pairs(obj: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (!prefix && HIDDEN.has(k)) continue;
    if (v && typeof v === 'object' && !Array.isArray(v)) out.push(...pairs(v as Record<string, unknown>, `${prefix}${k}.`));
    else if (v !== undefined) out.push(`${prefix}${k}=${scalar(v)}`);
  }
  return out;
}

/** One pino JSON line as one human-readable line (plus an indented stack for errors). */
export function prettyLine(json: string, opts: { color?: boolean } = {}): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json);
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  if (!o || typeof o !== 'object') return `${json}\n`;
  const level = typeof o.level === 'number' ? o.level : 30;
  let name = (LEVELS[level] ?? String(level)).padEnd(5);
  if (opts.color) name = `\x1b[${COLORS[level] ?? '0'}m${name}\x1b[0m`;
  const head = [clock(o.time), name, typeof o.msg === 'string' ? o.msg : ''];
  const req = o.req as { method?: string; url?: string; remoteAddress?: string } | undefined;
  const res = o.res as { statusCode?: number } | undefined;
  if (req?.method) head.push(`${req.method} ${req.url ?? ''}`);
  if (res?.statusCode !== undefined) head.push(String(res.statusCode));
  if (typeof o.responseTime === 'number') head.push(`${o.responseTime.toFixed(1)}ms`);
  if (req?.remoteAddress) head.push(req.remoteAddress);
  const err = o.err as { message?: string; stack?: string; type?: string } | undefined;
  if (err?.message) head.push(`error=${scalar(err.message)}`);
  const rest = pairs(o);
  let line = [...head.filter(Boolean), ...rest].join(' ') + '\n';
  if (err?.stack) line += err.stack.split('\n').map((l) => `    ${l}\n`).join('');
  return line;
}

/** A pino destination that writes pretty lines to `out` (standard output by default). */
export function prettyDestination(out: NodeJS.WritableStream = process.stdout, opts: { color?: boolean } = {}): { write(chunk: string): boolean } {
  let partial = '';
  return {
    write(chunk: string) {
      partial += chunk;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        if (line) out.write(prettyLine(line, opts));
      }
      return true;
    },
  };
}
