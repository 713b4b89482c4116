// `wharf serve` as a child process on a data directory, as an operator runs it: for tests
// that need separate processes (the data-directory lock, kill -9).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { databaseEnv } from './test-database.ts';

export const NODE = process.execPath;
export const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

export interface ServeProcess {
  child: ChildProcess;
  /** Resolves with the base URL once the server logged that it is ready; rejects if it exits first. */
  ready: Promise<string>;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  stdout(): string;
  stderr(): string;
}

/** Start `wharf serve --data <data>` (with the data directory's database, test/helpers/test-database.ts). */
export async function startServe(data: string, env: NodeJS.ProcessEnv = {}, extraArgs: string[] = []): Promise<ServeProcess> {
  const child = spawn(NODE, [MAIN, 'serve', '--data', data, '--port', '0', '--log-level', 'info', ...extraArgs], {
    env: { ...process.env, ...(await databaseEnv(data)), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /"address":"(https?:\/\/[^"]+)".*wharf is ready/.exec(out);
      if (m) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`wharf serve exited (${code}) before it was ready: ${err.trim()}`)));
  });
  // A test that only waits for exit must not fail on the rejected readiness.
  ready.catch(() => {});
  child.stderr!.on('data', (d: Buffer) => (err += d));
  return { child, ready, exited, stdout: () => out, stderr: () => err };
}
