// Authenticates every request once, before routing: the principal is then on `req.principal`.
// Credentials in the Authorization header win; without them, a browser's session cookie
// counts for reads (GET, HEAD) everywhere but the JSON API, and for other methods only on
// routes declared as page forms (`config: { pageForm: true }`), which check a CSRF token
// before anything else. Elsewhere the cookie is ignored: a site that makes the browser post
// to the API or upload gets an anonymous request.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseAuthorization } from '../core/auth/authenticator.ts';
import { ANONYMOUS, type Principal } from '../core/auth/principal.ts';
import type { Wharf } from '../core/wharf.ts';
import { API_PREFIX } from './api/define.ts';
import { sessionSecretOf } from './pages/session.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** A page's form: a session cookie authenticates its POSTs, and the route checks their CSRF token. */
    pageForm?: boolean;
  }
}

function sessionCounts(req: FastifyRequest): boolean {
  // The JSON API is for programs with tokens: a cookie never reaches it, reads included. The
  // route's pattern, not the URL: `/-/%61pi/…` reaches the same route.
  if (req.routeOptions.url?.startsWith(`${API_PREFIX}/`)) return false;
  return req.method === 'GET' || req.method === 'HEAD' || req.routeOptions.config?.pageForm === true;
}

export function registerAuth(app: FastifyInstance, wharf: Wharf): void {
  app.decorateRequest('principal', null as never);
  // A callback hook, not an async one: anonymous requests (most reads) cost no promise.
  app.addHook('onRequest', (req, _reply, done) => {
    const header = req.headers.authorization;
    if (!header) {
      const secret = sessionSecretOf(req);
      if (!secret || !sessionCounts(req)) {
        req.principal = ANONYMOUS;
        return done();
      }
      wharf.sessions.principal(secret).then((p) => {
        req.principal = p ?? ANONYMOUS;
        done();
      }, done);
      return;
    }
    wharf.auth.authenticate(parseAuthorization(header), req.ip).then((p) => {
      req.principal = p;
      done();
    }, done);
  });
}
