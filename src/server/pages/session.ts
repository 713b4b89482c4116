// The session cookie `wharf_session` (and the sign-in form's pre-session CSRF cookie):
// HttpOnly (no script reads it), SameSite=Lax (other sites' forms and fetches do not carry it;
// a link followed to here does, for reads), Path=/, and Secure when the request came over
// HTTPS (req.protocol: the connection's, or X-Forwarded-Proto from trustedProxies only).
import type { FastifyRequest } from 'fastify';
import { isServerAdmin } from '../../core/auth/principal.ts';

export const SESSION_COOKIE = 'wharf_session';
export const LOGIN_CSRF_COOKIE = 'wharf_login_csrf';

/** The value of cookie `name` in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Whether a request carries a session cookie at all (valid or not): the response cache stays out of it. */
export function carriesSession(header: string | undefined): boolean {
  return header !== undefined && header.includes(`${SESSION_COOKIE}=`);
}

export function sessionSecretOf(req: FastifyRequest): string | undefined {
  return cookieValue(req.headers.cookie, SESSION_COOKIE);
}

/** A Set-Cookie value; `maxAge` in seconds (0 clears it). Values are base64url: nothing to escape. */
export function cookie(req: FastifyRequest, name: string, value: string, maxAge: number): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${Math.floor(maxAge)}${req.protocol === 'https' ? '; Secure' : ''}`;
}

/** Who a page is for, as its header shows them. */
export interface Viewer {
  name: string;
  admin: boolean;
  /** A browser session's CSRF token (for the sign-out form); null for HTTP Basic or a token. */
  csrf: string | null;
}

export function viewerOf(req: FastifyRequest): Viewer | null {
  const p = req.principal;
  // No principal at all when authentication itself failed (wrong credentials): an error page for nobody.
  if (!p || p.kind === 'anonymous') return null;
  return { name: p.user.name, admin: isServerAdmin(p), csrf: p.kind === 'session' ? p.session.csrf : null };
}
