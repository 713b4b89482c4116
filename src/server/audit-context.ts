// Names the actor of every request that may change something (anything but GET and HEAD) for
// the audit trail: the authenticated user or token, and the client address as Fastify sees it
// (behind trusted proxies only, the forwarded one). The route's handler runs inside that
// context, so each write path's recordAudit finds it (src/core/audit.ts).
import type { FastifyInstance, RouteHandlerMethod } from 'fastify';
import { actingAs, actorOf } from '../core/audit.ts';

export function registerAuditContext(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.every((m) => m === 'GET' || m === 'HEAD')) return;
    const handler = route.handler as RouteHandlerMethod;
    route.handler = function (this: FastifyInstance, req, reply) {
      return actingAs(actorOf(req.principal, req.ip), () => handler.call(this, req, reply));
    } as RouteHandlerMethod;
  });
}
