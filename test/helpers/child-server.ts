// A real `wharf serve` in a child process over a data directory the test keeps, so that it
// can be killed with SIGKILL (a crash: no shutdown hook runs) and started again on the same
// data, with none of the previous process's memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { freePort } from './ports.ts';
import { ADMIN_PASSWORD, basic } from './server.ts';
import { databaseEnv } from './test-database.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const NODE = path.join(ROOT, 'node_modules/.bin/node');
const MAIN = path.join(ROOT, 'src/cli/main.ts');

export interface ChildServer {
  url: string;
  port: number;
  data: string;
  adminAuth: string;
  /** What the process wrote to stderr (warnings and errors). */
  stderr(): string;
  /** SIGKILL, and wait until the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM (a clean shutdown), and wait until the process is gone. */
  stop(): Promise<void>;
}

async function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await once(child, 'exit');
}

/** Start `wharf serve --data <data>` and wait until it answers /-/health. */
export async function spawnServer(data: string, opts: { logLevel?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ChildServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(NODE, [MAIN, 'serve', '--data', data, '--host', '127.0.0.1', '--port', String(port), '--log-level', opts.logLevel ?? 'warn'], {
      env: { ...process.env, ...(await databaseEnv(data)), ...opts.env, WHARF_ADMIN_PASSWORD: ADMIN_PASSWORD },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    let up = false;
    while (!up && Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
      up = await fetch(`${url}/-/health`).then((r) => r.ok, () => false);
      if (!up) await new Promise((r) => setTimeout(r, 50));
    }
    if (!up) {
      child.kill('SIGKILL');
      await waitExit(child);
      // The port may have been taken between choosing and binding it: try another.
      if (attempt < 3 && /EADDRINUSE/.test(stderr)) continue;
      throw new Error(`wharf serve did not start on ${url}:\n${stderr}`);
    }
    return {
      url, port, data,
      adminAuth: basic('admin', ADMIN_PASSWORD),
      stderr: () => stderr,
      async kill9() {
        child.kill('SIGKILL');
        await waitExit(child);
      },
      async stop() {
        child.kill('SIGTERM');
        await waitExit(child);
      },
    };
  }
}

/** Run a `wharf` command (e.g. an offline `fsck --data D`) to its end: exit code and output. */
export async function wharfCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string }> {
  const data = args.indexOf('--data');
  const db = data >= 0 && args[data + 1] ? await databaseEnv(args[data + 1]) : {};
  const child = spawn(NODE, [MAIN, ...args], { env: { ...process.env, ...db, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code: code ?? -1, out };
}
