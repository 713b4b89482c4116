// nginx and Caddy serving Wharf's static tree with Wharf behind them, from docs/static.md's
// configurations themselves (paths and ports replaced), everything they write under one directory.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from './ports.ts';

export const NGINX = '/usr/sbin/nginx';

/** A fenced block of docs/static.md (`nginx`, `caddy`). */
export async function docBlock(lang: string): Promise<string> {
  const doc = await readFile(path.join(import.meta.dirname, '../../docs/static.md'), 'utf8');
  const m = new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'm').exec(doc);
  if (!m) throw new Error(`docs/static.md has no ${lang} block`);
  return m[1];
}

/** docs/static.md's nginx configuration (the `http` context) with another tree, Wharf and port. */
export async function staticNginxSite(o: { port: number; root: string; wharf: string }): Promise<string> {
  return (await docBlock('nginx'))
    .replace('server 127.0.0.1:8080;', `server ${o.wharf};`)
    .replace('listen 80;', `listen 127.0.0.1:${o.port};`)
    .replace('root /var/lib/wharf/static;', `root ${o.root};`);
}

/** The documented configuration with the test's tree, Wharf and port, inside a minimal nginx.conf. */
export async function staticNginxConf(dir: string, o: { port: number; root: string; wharf: string }): Promise<string> {
  const site = await staticNginxSite(o);
  return `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  sendfile on;
  access_log ${dir}/logs/access.log;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
${site}
}
`;
}

export interface StaticNginx {
  url: string;
  stop(): Promise<void>;
}

/**
 * Start nginx on a free port. Its workers run as `nobody` when the tests run as root, so the
 * directories above the tree must be searchable by others (mkdtemp makes them 0700).
 */
export async function startStaticNginx(dir: string, root: string, wharf: string): Promise<StaticNginx> {
  for (const d of ['logs', 'tmp']) await mkdir(path.join(dir, d), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    await writeFile(path.join(dir, 'nginx.conf'), await staticNginxConf(dir, { port, root, wharf }));
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
    if (up) return { url, stop: () => stopNginx(child) };
    child.kill('SIGKILL');
    const log = await readFile(path.join(dir, 'logs/error.log'), 'utf8').catch(() => '');
    if (attempt < 3 && /Address already in use/.test(err + log)) continue;
    throw new Error(`nginx did not start on ${url}:\n${err}\n${log}`);
  }
}

async function stopNginx(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(timer);
}

export const CADDY = '/usr/bin/caddy';

/**
 * Caddy on a free port with docs/static.md's Caddyfile (paths and ports replaced), its admin
 * endpoint off and its state under `dir`.
 */
export async function startStaticCaddy(dir: string, root: string, wharf: string): Promise<StaticNginx> {
  await mkdir(dir, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const site = (await docBlock('caddy'))
      .replace(/^:80 \{/m, `http://127.0.0.1:${port} {`)
      .replaceAll('127.0.0.1:8080', wharf)
      .replace('root * /var/lib/wharf/static', `root * ${root}`);
    const file = path.join(dir, 'Caddyfile');
    await writeFile(file, `{\n\tadmin off\n\tauto_https off\n}\n${site}`);
    const env = { ...process.env, HOME: dir, XDG_DATA_HOME: path.join(dir, 'data'), XDG_CONFIG_HOME: path.join(dir, 'config') };
    const child = spawn(CADDY, ['run', '--config', file, '--adapter', 'caddyfile'], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20_000;
    let up = false;
    while (!up && Date.now() < deadline && child.exitCode === null) {
      up = await fetch(`${url}/-/health`).then(async (r) => (await r.arrayBuffer(), r.ok), () => false);
      if (!up) await new Promise((r) => setTimeout(r, 50));
    }
    if (up) return { url, stop: () => stopNginx(child) };
    child.kill('SIGKILL');
    if (attempt < 3 && /address already in use/i.test(err)) continue;
    throw new Error(`caddy did not start on ${url}:\n${err}`);
  }
}
