// How the pages with forms (sign-in, tokens, administration) are registered: in a scope of
// their own that parses only urlencoded bodies, renders its errors as pages, and declares
// every POST as a page form whose CSRF token is checked before its handler runs. A form
// route can only be added through `formRoute`, so none can forget the check, and each must
// be listed in FORM_ROUTES (the tests post to every one of them without a token).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isWharfError } from '../../core/errors.ts';
import type { Wharf } from '../../core/wharf.ts';
import { errorHandler } from '../error-handler.ts';
import { checkLoginForm, checkSessionForm } from './csrf.ts';
import { registerFormParser } from './forms.ts';
import { html, type Html } from './html.ts';
import { layout } from './layout.ts';
import { sendPage } from './send.ts';
import { viewerOf } from './session.ts';

/** Every POST a page's form makes (Fastify paths). */
export const FORM_ROUTES = [
  '/-/login',
  '/-/logout',
  '/-/tokens',
  '/-/tokens/:id/revoke',
  '/-/admin/repositories',
  '/-/admin/repositories/:name/delete',
  '/-/admin/users',
  '/-/admin/users/:name/delete',
] as const;

export type FormRoute = (typeof FORM_ROUTES)[number];

export interface PageKit {
  wharf: Wharf;
  version: string;
  /** Answer with a page in the site's frame (never shared: these pages are per viewer). */
  show(req: FastifyRequest, reply: FastifyReply, status: number, title: string, body: Html, opts?: { noStore?: boolean }): FastifyReply;
  /** A POST of a form; `login`: the sign-in form (pre-session token), otherwise a signed-in one. */
  formRoute(path: FormRoute, handler: (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>, opts?: { login?: boolean }): void;
  get(path: string, handler: (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>): void;
}

export function pageKit(app: FastifyInstance, wharf: Wharf, version: string): PageKit {
  const show: PageKit['show'] = (req, reply, status, title, body, opts = {}) => {
    reply.code(status);
    return sendPage(req, reply, layout({ title: `${title} · Wharf`, viewer: viewerOf(req), version, home: '/', body }), { shared: false, noStore: opts.noStore });
  };
  return {
    wharf,
    version,
    show,
    formRoute(path, handler, opts = {}) {
      app.route({
        method: 'POST',
        url: path,
        config: { pageForm: true },
        preHandler: (req, _reply, done) => {
          try {
            if (opts.login) checkLoginForm(req);
            else checkSessionForm(req);
            done();
          } catch (err) {
            done(err as Error);
          }
        },
        handler,
      });
    },
    get(path, handler) {
      app.get(path, handler);
    },
  };
}

/** Errors a viewer causes, as a page with their status; anything else goes to the server's handler (a 5xx). */
export function pageErrors(version: string) {
  return (err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => {
    const status = isWharfError(err) ? err.status : 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 500 || status < 400) return errorHandler(err, req, reply);
    req.log.info({ status, reason: err.message }, 'page request refused');
    if (isWharfError(err)) for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
    reply.code(status);
    const body = html`<h1>${status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Cannot do that'}</h1>
<p role="alert">${err.message}</p>
<p><a href="/">Repositories</a></p>`;
    return sendPage(req, reply, layout({ title: 'Wharf', viewer: viewerOf(req), version, home: '/', body }), { shared: false });
  };
}

export function registerFormScope(app: FastifyInstance, version: string): void {
  registerFormParser(app);
  app.setErrorHandler(pageErrors(version));
}
