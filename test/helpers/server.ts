// Starts a real Wharf server on 127.0.0.1 (a random port) over a fresh data directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Wharf } from '../../src/core/wharf.ts';
import { buildServer } from '../../src/server/app.ts';
import { DEFAULTS, type Config } from '../../src/server/config.ts';
import type { ExtraListeners } from '../../src/server/extra-listeners.ts';
import type { Scheduler } from '../../src/server/scheduler.ts';
import { databaseFor, forgetDatabase } from './test-database.ts';

export const ADMIN_PASSWORD = 'admin-secret-pw';

export interface TestServer {
  url: string;
  port: number;
  app: FastifyInstance;
  wharf: Wharf;
  listeners: ExtraListeners;
  scheduler: Scheduler;
  data: string;
  /** Every request's method, URL and status, in order. */
  requests: { method: string; url: string; status: number }[];
  adminAuth: string;
  close(): Promise<void>;
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

export async function startServer(overrides: Partial<Config> = {}): Promise<TestServer> {
  const data = await mkdtemp(join(tmpdir(), 'wharf-test-'));
  const config: Config = { ...DEFAULTS, data, port: 0, logLevel: 'warn', adminPassword: ADMIN_PASSWORD, ...overrides };
  // WHARF_TEST_DATABASE=postgres: the data directory's own PostgreSQL database, unless the test pins one.
  if (!('database' in overrides)) config.database = await databaseFor(config.data);
  const { app, wharf, listeners, scheduler } = await buildServer(config, { logger: { level: process.env.WHARF_TEST_LOG ?? 'silent' } });
  if (config.database && wharf.store.sql.dialect !== 'postgres') throw new Error(`the server did not open ${config.database}`);
  const requests: TestServer['requests'] = [];
  app.addHook('onResponse', async (req, reply) => {
    requests.push({ method: req.method, url: req.url, status: reply.statusCode });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    app,
    wharf,
    listeners,
    scheduler,
    data,
    requests,
    adminAuth: basic('admin', ADMIN_PASSWORD),
    async close() {
      // A keep-alive connection whose last response was still finishing when close began is not
      // idle then, and would hold close() for the keep-alive timeout (about a minute).
      const idle = setInterval(() => app.server.closeIdleConnections(), 50);
      await app.close().finally(() => clearInterval(idle));
      await forgetDatabase(data);
      await rm(data, { recursive: true, force: true });
    },
  };
}
