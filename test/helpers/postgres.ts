// A throwaway PostgreSQL for tests, started by the test itself: `initdb` into a temporary
// directory and `pg_ctl` on a free port of 127.0.0.1 (and a Unix socket in that directory),
// no system service. PostgreSQL refuses to run as root, so as root the cluster belongs to
// the `postgres` user Debian's package creates (or `nobody`) and its programs run through
// runuser. `close` stops the server and removes the directory; an exit hook does the same
// if a test dies first.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

export interface TestPostgres {
  /** postgres://wharf@127.0.0.1:PORT/postgres (trust authentication on 127.0.0.1 only). */
  url: string;
  port: number;
  dir: string;
  /** A connection string for a new, empty database. */
  createDatabase(name: string): Promise<string>;
  close(): Promise<void>;
}

const SUPERUSER = 'wharf';

/** The directory of initdb and pg_ctl: Debian keeps them off PATH, under /usr/lib/postgresql/<version>/bin. */
export function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => /^\d+$/.test(v) && existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length) return join(base, versions[0], 'bin');
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (which.status === 0) return join(which.stdout.trim(), '..');
  throw new Error('PostgreSQL is not installed (initdb not found): apt-get install postgresql-15, or bash scripts/install-test-deps.sh');
}

/** Who runs the cluster: this process, or (as root) an unprivileged user. */
function runAs(): { user: string | null; uid: number; gid: number } {
  if (process.getuid?.() !== 0) return { user: null, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  for (const user of ['postgres', 'nobody']) {
    const id = spawnSync('id', ['-u', user], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
    if (id.status === 0 && gid.status === 0) return { user, uid: Number(id.stdout), gid: Number(gid.stdout) };
  }
  throw new Error('running as root, and neither the postgres nor the nobody user exists to run PostgreSQL');
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  const as = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'wharf-pg-'));
  // The cluster's user must own the directory and reach it; /tmp itself is world-searchable.
  chmodSync(dir, 0o700);
  chownSync(dir, as.uid, as.gid);
  const data = join(dir, 'data');
  const run = (prog: string, args: string[]) => {
    const cmd = as.user ? 'runuser' : join(bin, prog);
    const argv = as.user ? ['-u', as.user, '--', join(bin, prog), ...args] : args;
    return execFileSync(cmd, argv, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  };
  let port = 0;
  const stop = () => {
    if (existsSync(join(data, 'postmaster.pid'))) {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const onExit = () => stop();
  process.once('exit', onExit);
  try {
    run('initdb', ['-D', data, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--no-instructions', '--no-sync']);
    // Test settings: nothing here needs to survive a crash of the machine.
    writeFileSync(join(data, 'postgresql.auto.conf'), 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n');
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      try {
        run('pg_ctl', ['-D', data, '-l', join(dir, 'postgres.log'), '-w', '-t', '30', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start']);
        break;
      } catch (err) {
        // Another process took the port between freePort and the bind: try another.
        if (attempt >= 3) throw err;
      }
    }
  } catch (err) {
    process.off('exit', onExit);
    stop();
    throw err;
  }
  const url = `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    dir,
    async createDatabase(name: string) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      const pg = await import('pg');
      const client = new pg.default.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://${SUPERUSER}@127.0.0.1:${port}/${name}`;
    },
    async close() {
      process.off('exit', onExit);
      stop();
    },
  };
}
