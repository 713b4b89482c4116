// Load generation: wrk for throughput (the same settings for every server compared), and a
// sequential keep-alive client for per-request latency.
import { execFile } from 'node:child_process';
import { Agent, request } from 'node:http';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WrkOptions {
  threads: number;
  connections: number;
  durationSec: number;
  headers?: Record<string, string>;
}

export interface WrkResult {
  requestsPerSec: number;
  requests: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  non2xx: number;
  errors: number;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

export function parseWrk(out: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!rps) throw new Error(`wrk output without Requests/sec:\n${out}`);
  const lat = (p: string) => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)`, 'm').exec(out);
    return m ? toMs(m[1], m[2]) : NaN;
  };
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = sock ? sock.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0;
  const requests = Number(/(\d+) requests in /.exec(out)?.[1] ?? NaN);
  return { requestsPerSec: Number(rps[1]), requests, latencyP50Ms: lat('50'), latencyP99Ms: lat('99'), non2xx, errors };
}

export async function wrk(url: string, o: WrkOptions): Promise<WrkResult> {
  if (!/^http:\/\/127\.0\.0\.1[:/]/.test(url)) throw new Error(`load tests target 127.0.0.1 only, not ${url}`);
  const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.durationSec}s`, '--latency'];
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push('-H', `${k}: ${v}`);
  args.push(url);
  const { stdout } = await run('wrk', args, { timeout: (o.durationSec + 30) * 1000 });
  const r = parseWrk(stdout);
  if (r.non2xx > 0) throw new Error(`wrk ${url}: ${r.non2xx} responses were not 2xx/3xx`);
  return r;
}

/** `count` sequential GETs over one keep-alive connection; per-request latency in ms. */
export async function sequentialLatency(url: string, count: number, headers: Record<string, string> = {}): Promise<{ latenciesMs: number[]; bytes: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latenciesMs: number[] = [];
  let bytes = 0;
  try {
    for (let i = 0; i < count; i++) {
      const t0 = process.hrtime.bigint();
      bytes = await new Promise<number>((resolve, reject) => {
        const req = request(url, { agent, headers }, (res) => {
          let n = 0;
          res.on('data', (c: Buffer) => { n += c.length; });
          res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      latenciesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  } finally {
    agent.destroy();
  }
  return { latenciesMs, bytes };
}
