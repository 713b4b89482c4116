// Permission checks for management API handlers.
import type { FastifyRequest } from 'fastify';
import { can, isServerAdmin } from '../../core/auth/principal.ts';
import { forbidden, notFound, unauthorized } from '../../core/errors.ts';
import type { Permission, Repository, User } from '../../core/model.ts';
import type { Wharf } from '../../core/wharf.ts';

export function requireUser(req: FastifyRequest): User {
  if (req.principal.kind === 'anonymous') throw unauthorized();
  return req.principal.user;
}

/**
 * Accounts, grants and tokens are managed only by a password login: a token, whatever its
 * scope, never changes a password, a user, a grant or a token, so a leaked token cannot be
 * turned into its owner's account (docs/security.md). Nor does a browser session through the
 * API: it is borne by a cookie that any site can make the browser send; its user does these
 * things through the pages' forms, which check a CSRF token.
 */
export function requirePasswordLogin(req: FastifyRequest): User {
  const user = requireUser(req);
  if (req.principal.kind === 'token') throw forbidden('managing users, grants and tokens needs a password login, not a token');
  if (req.principal.kind !== 'user') throw forbidden('managing users, grants and tokens through the API needs a password login (HTTP Basic); in a browser, use the pages');
  return user;
}

export function requireServerAdmin(req: FastifyRequest): User {
  const user = requireUser(req);
  if (!isServerAdmin(req.principal)) throw forbidden('this needs an administrator');
  return user;
}

/** The repository, if the principal has `need` on it; private repositories stay hidden from others. */
export function requireRepo(wharf: Wharf, req: FastifyRequest, name: string, need: Permission): Repository {
  const repo = wharf.repo(name);
  if (!repo) throw notFound(`no repository named ${name}`);
  if (!can(req.principal, repo, need)) {
    if (req.principal.kind === 'anonymous') throw unauthorized(`${name} requires authentication`);
    if (!can(req.principal, repo, 'read')) throw notFound(`no repository named ${name}`);
    throw forbidden(`you may not ${need === 'read' ? 'read' : need === 'write' ? 'write to' : 'administer'} ${name}`);
  }
  return repo;
}
