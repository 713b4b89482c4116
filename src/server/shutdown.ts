// Stopping the server within seconds. Fastify's close() closes the connections idle at that
// moment, but a keep-alive connection whose response finishes later stays open for the
// keep-alive timeout (65 s), and a response a client stopped reading never finishes. Here
// idle connections are closed at once and again as responses finish, and whatever is still
// being answered after the grace period is cut.
import type { FastifyInstance } from 'fastify';

export interface ShutdownLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Close `app`: in-flight requests get `graceMs`, idle keep-alive connections none. */
export async function closeGracefully(app: FastifyInstance, graceMs: number, log: ShutdownLog = app.log): Promise<void> {
  const server = app.server;
  const idle = setInterval(() => server.closeIdleConnections(), 50);
  const force = setTimeout(() => {
    log.warn({ graceSeconds: graceMs / 1000 }, 'requests still in flight after the shutdown grace: connections cut');
    server.closeAllConnections();
  }, graceMs);
  try {
    await app.close();
  } finally {
    clearInterval(idle);
    clearTimeout(force);
  }
}
