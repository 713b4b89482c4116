// Authenticates every request once, before routing: the principal is then on `req.principal`.
import type { FastifyInstance } from 'fastify';
import { parseAuthorization } from '../core/auth/authenticator.ts';
import { ANONYMOUS, type Principal } from '../core/auth/principal.ts';
import type { Wharf } from '../core/wharf.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

export function registerAuth(app: FastifyInstance, wharf: Wharf): void {
  app.decorateRequest('principal', null as never);
  app.addHook('onRequest', async (req) => {
    const header = req.headers.authorization;
    req.principal = header ? await wharf.auth.authenticate(parseAuthorization(header), req.ip) : ANONYMOUS;
  });
}
