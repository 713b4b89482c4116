// Several `wharf serve` replicas as an operator runs them (docs/scale-out.md): one fresh
// PostgreSQL database, one s3rver bucket, N child processes each with its own --data and
// port, and Debian's nginx on 127.0.0.1 in front of them (round robin). nginx runs from a
// configuration generated into a temporary directory (`nginx -p DIR -c nginx.conf`), with its
// pid, logs and temporary files there: no system file is read or written.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freshPostgresUrl } from './engines.ts';
import { freePort } from './ports.ts';
import { startS3, type TestS3 } from './s3.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const NODE = path.join(ROOT, 'node_modules/.bin/node');
const MAIN = path.join(ROOT, 'src/cli/main.ts');
export const NGINX = '/usr/sbin/nginx';

export const REPLICA_PASSWORD = 'replicas-admin-pw';
export const replicaAuth = `Basic ${Buffer.from(`admin:${REPLICA_PASSWORD}`).toString('base64')}`;

export interface Replica {
  name: string;
  url: string;
  port: number;
  data: string;
  child: ChildProcess;
  /** Standard output so far: the JSON log lines at the replica's log level. */
  stdout(): string;
  stderr(): string;
  alive(): boolean;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export interface ReplicaSet {
  database: string;
  s3: TestS3;
  replicas: Replica[];
  /** nginx in front of every replica: http://127.0.0.1:PORT */
  url: string;
  /** nginx's directory: nginx.conf, logs/error.log, logs/access.log. */
  nginxDir: string;
  nginxConf: string;
  errorLog(): Promise<string>;
  accessLog(): Promise<string>;
  close(): Promise<void>;
}

export interface ReplicaOptions {
  /** Log level of every replica (default warn; info logs every request and scheduled run). */
  logLevel?: string;
  /** Extra environment of every replica (e.g. WHARF_GC_GRACE_SECONDS). */
  env?: NodeJS.ProcessEnv;
  /** A configuration file every replica reads (--config), e.g. declared repositories. */
  config?: object;
}

async function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await once(child, 'exit');
}

async function startReplica(name: string, dir: string, common: string[], env: NodeJS.ProcessEnv, logLevel: string): Promise<Replica> {
  const data = path.join(dir, name);
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(NODE, [MAIN, 'serve', '--data', data, '--host', '127.0.0.1', '--port', String(port), '--log-level', logLevel, '--log-format', 'json', ...common], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    child.stderr!.on('data', (d: Buffer) => (err += d));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 90_000;
    let up = false;
    while (!up && Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
      up = await fetch(`${url}/-/health`).then(async (r) => (await r.arrayBuffer(), r.ok), () => false);
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    if (!up) {
      child.kill('SIGKILL');
      await waitExit(child);
      // The port may have been taken between choosing and binding it: try another.
      if (attempt < 3 && /EADDRINUSE/.test(err + out)) continue;
      throw new Error(`replica ${name} did not start on ${url}:\n${err}\n${out.slice(-4000)}`);
    }
    return {
      name, url, port, data, child,
      stdout: () => out,
      stderr: () => err,
      alive: () => child.exitCode === null && child.signalCode === null,
      async kill9() {
        child.kill('SIGKILL');
        await waitExit(child);
      },
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await waitExit(child);
        clearTimeout(timer);
      },
    };
  }
}

/**
 * nginx's configuration for replicas at `upstreams` (host:port), listening on 127.0.0.1:`port`,
 * with everything it writes under `dir`. The same proxy settings as docs/scale-out.md's.
 */
export function nginxConf(dir: string, port: number, upstreams: string[]): string {
  return `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 1024; }
http {
  log_format replicas '$remote_addr "$request" $status $upstream_addr $upstream_status';
  access_log ${dir}/logs/access.log replicas;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  upstream wharf {
${upstreams.map((u) => `    server ${u} max_fails=1 fail_timeout=10s;`).join('\n')}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    # Uploads stream through to a replica (Wharf bounds their size and idle time itself).
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_read_timeout 1h;
    proxy_send_timeout 1h;
    location / {
      proxy_pass http://wharf;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      # A replica that is down (refused, reset, timed out) is skipped; nginx sends a request
      # to the next one only if it is idempotent or was not sent yet (never a half-sent upload).
      proxy_next_upstream error timeout http_502 http_503;
      proxy_connect_timeout 2s;
    }
  }
}
`;
}

/** nginx before `upstreams` (host:port), everything it writes under `dir`; `stop` ends it. */
export async function startLoadBalancer(dir: string, upstreams: string[]): Promise<{ url: string; stop(): Promise<void> }> {
  const n = await startNginx(dir, upstreams);
  return { url: n.url, stop: () => stopNginx(n.child) };
}

async function stopNginx(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGQUIT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await waitExit(child);
  clearTimeout(timer);
}

async function startNginx(dir: string, upstreams: string[]): Promise<{ url: string; child: ChildProcess; conf: string }> {
  for (const d of ['logs', 'tmp']) await mkdir(path.join(dir, d), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const conf = nginxConf(dir, port, upstreams);
    await writeFile(path.join(dir, 'nginx.conf'), conf);
    // -e: the log nginx writes before it reads the configuration (else /var/log/nginx/error.log).
    const child = spawn(NGINX, ['-p', dir, '-e', path.join(dir, 'logs/error.log'), '-c', 'nginx.conf', '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20_000;
    let up = false;
    while (!up && Date.now() < deadline && child.exitCode === null) {
      up = await fetch(`${url}/-/health`).then(async (r) => (await r.arrayBuffer(), r.ok), () => false);
      if (!up) await new Promise((r) => setTimeout(r, 50));
    }
    if (up) return { url, child, conf };
    child.kill('SIGKILL');
    await waitExit(child);
    const log = await readFile(path.join(dir, 'logs/error.log'), 'utf8').catch(() => '');
    if (attempt < 3 && /Address already in use/.test(err + log)) continue;
    throw new Error(`nginx did not start on ${url}:\n${err}\n${log}`);
  }
}

/** `n` replicas on one fresh PostgreSQL database and one s3rver bucket, started together, and nginx before them. */
export async function startReplicas(n: number, opts: ReplicaOptions = {}): Promise<ReplicaSet> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-replicas-'));
  const database = await freshPostgresUrl();
  const s3 = await startS3();
  const common = ['--database', database, '--blobs', `s3://${s3.bucket}/wharf`, '--trusted-proxies', '127.0.0.1'];
  if (opts.config) {
    await writeFile(path.join(dir, 'wharf.json'), JSON.stringify(opts.config, null, 2));
    common.push('--config', path.join(dir, 'wharf.json'));
  }
  const env = { ...s3.env, WHARF_ADMIN_PASSWORD: REPLICA_PASSWORD, ...opts.env };
  const replicas: Replica[] = [];
  let nginx: { url: string; child: ChildProcess; conf: string } | undefined;
  const nginxDir = path.join(dir, 'nginx');
  const close = async () => {
    if (nginx) await stopNginx(nginx.child);
    await Promise.all(replicas.map((r) => r.stop()));
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // Started at once, as a compose file or an orchestrator starts them: the first start's
    // migration, admin account and declared repositories happen on several at a time.
    const started = await Promise.allSettled(Array.from({ length: n }, (_, i) => startReplica(String.fromCharCode(65 + i), dir, common, env, opts.logLevel ?? 'warn')));
    for (const s of started) if (s.status === 'fulfilled') replicas.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    nginx = await startNginx(nginxDir, replicas.map((r) => `127.0.0.1:${r.port}`));
  } catch (err) {
    await close();
    throw err;
  }
  return {
    database, s3, replicas, url: nginx.url, nginxDir, nginxConf: nginx.conf,
    errorLog: () => readFile(path.join(nginxDir, 'logs/error.log'), 'utf8').catch(() => ''),
    accessLog: () => readFile(path.join(nginxDir, 'logs/access.log'), 'utf8').catch(() => ''),
    close,
  };
}

/** The JSON log lines of a replica whose `msg` is `msg`. */
export function logLines(replica: Replica, msg: string): Record<string, unknown>[] {
  return replica.stdout().split('\n').filter((l) => l.includes(msg)).flatMap((l) => {
    try {
      const o = JSON.parse(l) as Record<string, unknown>;
      return o.msg === msg ? [o] : [];
    } catch {
      return [];
    }
  });
}
