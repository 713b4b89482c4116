// Child processes under test: Wharf as its own process (so its RSS is its own) and nginx
// with a minimal configuration, both on 127.0.0.1 at free ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const NODE = join(ROOT, 'node_modules/.bin/node');

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGTERM, then SIGKILL after 10 s; resolves once the child has exited. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export interface RunningServer {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export interface WharfProcessOptions {
  data: string;
  adminPassword: string;
  logLevel?: string;
  nodeArgs?: string[];
  /** More `wharf serve` flags, e.g. `['--static-dir', DIR]`. */
  serveArgs?: string[];
  /** Another checkout to run (e.g. the main branch, for a before/after comparison). */
  root?: string;
}

export async function startWharf(opts: WharfProcessOptions): Promise<RunningServer> {
  const port = await freePort();
  const args = [...(opts.nodeArgs ?? []), join(opts.root ?? ROOT, 'src/cli/main.ts'), 'serve', '--data', opts.data, '--host', '127.0.0.1', '--port', String(port), '--log-level', opts.logLevel ?? 'warn', ...(opts.serveArgs ?? [])];
  const child = spawn(NODE, args, {
    cwd: ROOT,
    env: { ...process.env, WHARF_ADMIN_PASSWORD: opts.adminPassword },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/health`, child);
  return { url, port, pid: child.pid!, stop: () => stop(child) };
}

/** nginx serving `root` as static files; `dav` also accepts PUT (into `root`). */
export async function startNginx(prefix: string, root: string, opts: { dav?: boolean; gzipStatic?: boolean; workerConnections?: number } = {}): Promise<RunningServer> {
  const port = await freePort();
  await mkdir(join(prefix, 'logs'), { recursive: true });
  await mkdir(join(prefix, 'tmp'), { recursive: true });
  const conf = `
worker_processes 1;
daemon off;
master_process off;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'logs/error.log')} warn;
events { worker_connections ${opts.workerConnections ?? 1024}; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  client_body_temp_path ${join(prefix, 'tmp/body')};
  proxy_temp_path ${join(prefix, 'tmp/proxy')};
  fastcgi_temp_path ${join(prefix, 'tmp/fastcgi')};
  uwsgi_temp_path ${join(prefix, 'tmp/uwsgi')};
  scgi_temp_path ${join(prefix, 'tmp/scgi')};
  types { text/html html; }
  default_type text/html;
  gzip off;
  ${opts.gzipStatic ? 'gzip_static on;' : ''}
  client_max_body_size 0;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    index index.html;
    ${opts.dav ? 'location / { dav_methods PUT; create_full_put_path on; }' : ''}
  }
}
`;
  const confPath = join(prefix, 'nginx.conf');
  await writeFile(confPath, conf);
  const child = spawn('/usr/sbin/nginx', ['-c', confPath, '-p', prefix], { stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/`, child);
  return { url, port, pid: child.pid!, stop: () => stop(child) };
}

/** The bare node:http server of static-node.ts over a plain and a gzip file. */
export async function startStaticNode(plainPath: string, gzipPath: string): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn(NODE, [join(ROOT, 'bench/lib/static-node.ts'), plainPath, gzipPath, String(port)], { stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/`, child);
  return { url, port, pid: child.pid!, stop: () => stop(child) };
}

/** VmRSS and VmHWM of a process, in bytes. */
export async function memoryOf(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Samples VmRSS every `intervalMs` until stopped; returns every sample and the final VmHWM. */
export function sampleRss(pid: number, intervalMs = 100): { stop(): Promise<{ samples: number[]; hwm: number }> } {
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      samples.push((await memoryOf(pid)).rss);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { samples, hwm: (await memoryOf(pid)).hwm };
    },
  };
}

/** CPU time (user + system, all threads) a process has used so far, in seconds. */
export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}
