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
  // A callback hook, not an async one: anonymous requests (most reads) cost no promise.
  app.addHook('onRequest', (req, _reply, done) => {
    const header = req.headers.authorization;
    if (!header) {
      req.principal = ANONYMOUS;
      return done();
    }
    wharf.auth.authenticate(parseAuthorization(header), req.ip).then((p) => {
      req.principal = p;
      done();
    }, done);
  });
}
