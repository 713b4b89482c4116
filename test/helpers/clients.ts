// Real clients, run isolated from this machine's own configuration (see ../shared/CLIENTS.md).
import { spawn, spawnSync } from 'node:child_process';

let interpreter: string | undefined;
/**
 * The interpreter behind `python3`, called directly: through pyenv's shim, `python3 -m pip
 * install` ends with pyenv's rehash hook, which exits 1 where the shims are read-only (the
 * fresh-machine container lends pyenv read-only) although pip succeeded.
 */
export function pythonExecutable(): string {
  interpreter ??= spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim() || 'python3';
  return interpreter;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    // A client that exits without reading its input must not fail the test with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * pip with no configuration but ours: only the server under test can supply packages.
 * `envChanges`: changes to the environment (a variable set to undefined is removed).
 */
export function pip(args: string[], envChanges: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, PIP_CONFIG_FILE: '/dev/null', PIP_NO_INPUT: '1', ...envChanges };
  for (const [k, v] of Object.entries(envChanges)) if (v === undefined) delete env[k];
  for (const k of ['PIP_FIND_LINKS', 'PIP_EXTRA_INDEX_URL', 'PIP_INDEX_URL', 'PIP_CONSTRAINT', 'PIP_REQUIRE_VIRTUALENV']) delete env[k];
  return run(pythonExecutable(), ['-m', 'pip', '--isolated', '--no-cache-dir', '--disable-pip-version-check', ...args], { env });
}

/** `envChanges`: changes to the environment (a variable set to undefined is removed). */
export function twineUpload(repoUrl: string, user: string, password: string, files: string[], extra: string[] = [], envChanges: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, TWINE_NON_INTERACTIVE: '1', ...envChanges };
  for (const [k, v] of Object.entries(envChanges)) if (v === undefined) delete env[k];
  delete env.TWINE_USERNAME;
  delete env.TWINE_PASSWORD;
  delete env.TWINE_REPOSITORY_URL;
  return run('twine', ['upload', '--non-interactive', '--disable-progress-bar', '--repository-url', repoUrl, '-u', user, '-p', password, ...extra, ...files], { env });
}
