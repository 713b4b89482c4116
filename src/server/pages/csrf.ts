// CSRF protection of the pages' forms. A signed-in form carries the session's synchronizer
// token (stored with the session, never in a cookie); the sign-in form, before there is a
// session, carries a random value that must equal its own cookie (double submit: another
// site can make a browser post, but cannot read or set this site's cookie). A POST without
// a matching token is refused with 403 before anything else happens.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { SessionPrincipal } from '../../core/auth/sessions.ts';
import { forbidden } from '../../core/errors.ts';
import { formOf } from './forms.ts';
import { LOGIN_CSRF_COOKIE, cookieValue } from './session.ts';

/** The form field every form carries its token in. */
export const CSRF_FIELD = 'csrf';

export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export const newLoginCsrf = () => randomBytes(24).toString('base64url');

const refused = () => forbidden('this form has expired or did not come from this site: reload the page and try again');

/** The session a signed-in form was posted from, once its token matches. */
export function checkSessionForm(req: FastifyRequest): SessionPrincipal {
  const p = req.principal;
  if (p.kind !== 'session' || !sameToken(formOf(req.body).get(CSRF_FIELD), p.session.csrf)) throw refused();
  return p;
}

/** The sign-in form: its field matches its cookie. */
export function checkLoginForm(req: FastifyRequest): void {
  if (!sameToken(formOf(req.body).get(CSRF_FIELD), cookieValue(req.headers.cookie, LOGIN_CSRF_COOKIE))) throw refused();
}
