// Administration pages for server administrators signed in through the form: repositories
// and users, listed, created and deleted (a delete asks for confirmation first), and the audit
// trail, read only. Anyone else
// gets 404, as for a page that does not exist. Mistakes (a bad name, a duplicate) come back
// on the form with the core's 4xx status.
import * as accounts from '../../core/auth/account-changes.ts';
import { parseSince } from '../../core/audit.ts';
import { AuditLog, type AuditRow } from '../../db/audit-log.ts';
import { AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX } from '../api/audit.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hashPassword } from '../../core/auth/passwords.ts';
import { isServerAdmin } from '../../core/auth/principal.ts';
import type { SessionPrincipal } from '../../core/auth/sessions.ts';
import { badRequest, conflict, isWharfError, notFound, type WharfError } from '../../core/errors.ts';
import { REPO_KINDS, type RepoKind } from '../../core/model.ts';
import { MIN_PASSWORD, USER_RE } from '../api/users.ts';
import { signedIn } from './account.ts';
import { CSRF_FIELD, checkSessionForm } from './csrf.ts';
import type { PageKit } from './form-routes.ts';
import { formOf, type FormFields } from './forms.ts';
import { html, type Html } from './html.ts';

/** A server administrator's session; 404 for anyone else (a Basic-auth admin is told to use the form). */
function adminSession(req: FastifyRequest): SessionPrincipal {
  const p = req.principal;
  if (p.kind !== 'anonymous' && p.kind !== 'session' && isServerAdmin(p)) signedIn(req);
  if (p.kind !== 'session' || !isServerAdmin(p)) throw notFound();
  return p;
}

/** For POSTs: the CSRF token is checked first, then the viewer must be a server administrator. */
function adminForm(req: FastifyRequest): SessionPrincipal {
  const p = checkSessionForm(req);
  if (!isServerAdmin(p)) throw notFound();
  return p;
}

const hidden = (csrf: string) => html`<input type="hidden" name="${CSRF_FIELD}" value="${csrf}">`;
const notice = (message: string | null) => (message ? html`<p class="notice" role="alert">${message}</p>\n` : '');
const adminNav = html`<nav aria-label="Administration"><ul><li><a href="/-/admin/repositories">Repositories</a></li><li><a href="/-/admin/users">Users</a></li><li><a href="/-/admin/audit">Audit trail</a></li></ul></nav>`;

function confirmPage(what: string, name: string, action: string, csrf: string, back: string): Html {
  return html`<h1>Delete ${what} ${name}?</h1>
<p>${what === 'repository' ? 'Everything in it goes: packages, files and its settings. Its blobs are freed by gc.' : 'Their tokens and grants go with them, and their browser sessions end.'} This cannot be undone.</p>
<form method="post" action="${action}">${hidden(csrf)}<input type="hidden" name="confirm" value="${name}">
<button type="submit" class="danger">Delete ${name}</button> <a href="${back}">Cancel</a></form>`;
}

export function registerAdminPages(kit: PageKit): void {
  const { wharf } = kit;

  // --- repositories
  const repoValues = (f?: FormFields) => ({
    name: f?.get('name').trim() ?? '', format: f?.get('format') ?? wharf.formats[0], kind: f?.get('kind') || 'hosted',
    access: f?.get('access') || 'public', upstream: f?.get('upstream').trim() ?? '', members: f?.get('members').trim() ?? '',
  });
  const reposPage = (req: FastifyRequest, reply: FastifyReply, p: SessionPrincipal, status: number, v: ReturnType<typeof repoValues>, message: string | null) => {
    const repos = wharf.listRepos().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return kit.show(req, reply, status, 'Repositories', html`${adminNav}
<h1>Repositories</h1>
<table>
<thead><tr><th scope="col">Name</th><th scope="col">Format</th><th scope="col">Kind</th><th scope="col">Access</th><th scope="col"><span class="visually-hidden">Delete</span></th></tr></thead>
<tbody>
${repos.map((r) => html`<tr><td><a href="/${encodeURIComponent(r.name)}/?setup">${r.name}</a></td><td>${r.format}</td><td>${r.kind}</td><td>${r.publicRead ? 'public' : 'private'}</td>
<td><form method="post" action="/-/admin/repositories/${encodeURIComponent(r.name)}/delete">${hidden(p.session.csrf)}<button type="submit" aria-label="Delete ${r.name}">Delete</button></form></td></tr>\n`)}</tbody>
</table>
<h2 id="create">Create a repository</h2>
${notice(message)}<form class="stack" method="post" action="/-/admin/repositories" aria-labelledby="create">
${hidden(p.session.csrf)}
<label for="repo-name">Name</label>
<input id="repo-name" name="name" required maxlength="64" value="${v.name}">
<label for="repo-format">Format</label>
<select id="repo-format" name="format">${wharf.formats.map((f) => html`<option${f === v.format ? html` selected` : ''}>${f}</option>`)}</select>
<label for="repo-kind">Kind</label>
<select id="repo-kind" name="kind">${REPO_KINDS.map((k) => html`<option${k === v.kind ? html` selected` : ''}>${k}</option>`)}</select>
<fieldset><legend>Access</legend>
<label><input type="radio" name="access" value="public"${v.access !== 'private' ? html` checked` : ''}> public: anyone may read</label>
<label><input type="radio" name="access" value="private"${v.access === 'private' ? html` checked` : ''}> private: only users with a grant</label>
</fieldset>
<label for="repo-upstream">Upstream URL (proxy only)</label>
<input id="repo-upstream" name="upstream" type="url" value="${v.upstream}">
<label for="repo-members">Members in order (group only; names separated by spaces)</label>
<input id="repo-members" name="members" value="${v.members}">
<p><button type="submit">Create repository</button></p>
</form>`);
  };

  kit.get('/-/admin/repositories', async (req, reply) => {
    const p = adminSession(req);
    return reposPage(req, reply, p, 200, repoValues(), null);
  });

  kit.formRoute('/-/admin/repositories', async (req, reply) => {
    const p = adminForm(req);
    const v = repoValues(formOf(req.body));
    const options: Record<string, unknown> = {};
    try {
      if (!v.name) throw badRequest('Give the repository a name.');
      if (!wharf.formats.includes(v.format)) throw badRequest(`There is no format ${v.format}.`);
      if (!(REPO_KINDS as readonly string[]).includes(v.kind)) throw badRequest(`There is no kind ${v.kind}.`);
      if (v.kind === 'proxy') options.upstream = v.upstream;
      if (v.kind === 'group') options.members = v.members.split(/[\s,]+/).filter(Boolean);
      const repo = await wharf.createRepo({ name: v.name, format: v.format, kind: v.kind as RepoKind, public: v.access !== 'private', options });
      req.log.info({ user: p.user.name, repo: repo.name }, 'repository created in the pages');
    } catch (err) {
      if (!isWharfError(err) || err.status >= 500) throw err;
      return reposPage(req, reply, p, err.status, v, err.message);
    }
    return reply.redirect('/-/admin/repositories', 303);
  });

  kit.formRoute('/-/admin/repositories/:name/delete', async (req, reply) => {
    const p = adminForm(req);
    const { name } = req.params as { name: string };
    if (!wharf.repo(name)) throw notFound(`no repository named ${name}`);
    const action = `/-/admin/repositories/${encodeURIComponent(name)}/delete`;
    if (formOf(req.body).get('confirm') !== name) return kit.show(req, reply, 200, `Delete ${name}`, confirmPage('repository', name, action, p.session.csrf, '/-/admin/repositories'));
    try {
      await wharf.deleteRepo(name);
    } catch (err) {
      if (!isWharfError(err) || err.status >= 500) throw err;
      return reposPage(req, reply, p, err.status, repoValues(), err.message);
    }
    req.log.info({ user: p.user.name, repo: name }, 'repository deleted in the pages');
    return reply.redirect('/-/admin/repositories', 303);
  });

  // --- users
  const usersPage = async (req: FastifyRequest, reply: FastifyReply, p: SessionPrincipal, status: number, v: { name: string; admin: boolean }, message: string | null) => {
    const users = await Promise.all((await wharf.store.listUsers()).map(async (u) => ({ u, grants: await wharf.store.listGrants(u.id) })));
    return kit.show(req, reply, status, 'Users', html`${adminNav}
<h1>Users</h1>
<table>
<thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Grants</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Delete</span></th></tr></thead>
<tbody>
${users.map(({ u, grants }) => html`<tr><td>${u.name}</td><td>${u.isAdmin ? 'administrator' : 'user'}</td><td>${grants.map((g) => `${g.repoPattern}: ${g.permission}`).join(', ') || '—'}</td><td>${u.createdAt.slice(0, 10)}</td>
<td>${u.id === p.user.id ? html`<span class="muted">you</span>` : html`<form method="post" action="/-/admin/users/${encodeURIComponent(u.name)}/delete">${hidden(p.session.csrf)}<button type="submit" aria-label="Delete ${u.name}">Delete</button></form>`}</td></tr>\n`)}</tbody>
</table>
<p class="muted">Grants: <code>wharf user grant NAME PATTERN read|write|admin</code>.</p>
<h2 id="create">Create a user</h2>
${notice(message)}<form class="stack" method="post" action="/-/admin/users" aria-labelledby="create">
${hidden(p.session.csrf)}
<label for="user-name">Name</label>
<input id="user-name" name="name" required maxlength="64" autocomplete="off" value="${v.name}">
<label for="user-password">Password (at least ${MIN_PASSWORD} characters)</label>
<input id="user-password" name="password" type="password" required minlength="${MIN_PASSWORD}" autocomplete="new-password">
<label><input type="checkbox" name="admin" value="1"${v.admin ? html` checked` : ''}> server administrator</label>
<p><button type="submit">Create user</button></p>
</form>`);
  };

  kit.get('/-/admin/users', async (req, reply) => {
    const p = adminSession(req);
    return usersPage(req, reply, p, 200, { name: '', admin: false }, null);
  });

  kit.formRoute('/-/admin/users', async (req, reply) => {
    const p = adminForm(req);
    const f = formOf(req.body);
    const v = { name: f.get('name').trim(), admin: f.get('admin') === '1' };
    const password = f.get('password');
    let refusal: WharfError | null = null;
    if (!USER_RE.test(v.name) || v.name === '__token__') refusal = badRequest(`"${v.name}" is not a valid user name: letters, digits, ".", "_", "-", at most 64.`);
    else if (password.length < MIN_PASSWORD || password.length > 1024) refusal = badRequest(`Passwords need ${MIN_PASSWORD} to 1024 characters.`);
    else if (await wharf.store.getUserByName(v.name)) refusal = conflict(`User ${v.name} already exists.`);
    if (refusal) return usersPage(req, reply, p, refusal.status, v, refusal.message);
    // Checked again with the insert: another request may create the name while we hash.
    if (!(await accounts.createUser(wharf.store, v.name, await hashPassword(password), v.admin))) {
      const taken = conflict(`User ${v.name} already exists.`);
      return usersPage(req, reply, p, taken.status, v, taken.message);
    }
    req.log.info({ user: p.user.name, created: v.name }, 'user created in the pages');
    return reply.redirect('/-/admin/users', 303);
  });

  kit.formRoute('/-/admin/users/:name/delete', async (req, reply) => {
    const p = adminForm(req);
    const { name } = req.params as { name: string };
    const target = await wharf.store.getUserByName(name);
    if (!target) throw notFound(`no user named ${name}`);
    if (target.id === p.user.id) return usersPage(req, reply, p, 400, { name: '', admin: false }, 'You cannot delete yourself.');
    const action = `/-/admin/users/${encodeURIComponent(name)}/delete`;
    if (formOf(req.body).get('confirm') !== name) return kit.show(req, reply, 200, `Delete ${name}`, confirmPage('user', name, action, p.session.csrf, '/-/admin/users'));
    await accounts.deleteUser(wharf.store, target);
    wharf.auth.forget();
    req.log.info({ user: p.user.name, deleted: name }, 'user deleted in the pages');
    return reply.redirect('/-/admin/users', 303);
  });

  // --- the audit trail (read only; the same filters as GET /-/api/v1/audit)
  const auditLog = new AuditLog(wharf.store.sql);
  kit.get('/-/admin/audit', async (req, reply) => {
    adminSession(req);
    const q = req.query as Record<string, string | undefined>;
    const text = (k: string) => (typeof q[k] === 'string' ? q[k]!.trim().slice(0, 64) : '');
    const f = { repo: text('repo'), user: text('user'), action: text('action'), since: text('since') };
    const limit = Math.min(AUDIT_PAGE_MAX, Math.max(1, Number(q.limit) || AUDIT_PAGE_DEFAULT));
    const before = Number(q.before) > 0 ? Math.floor(Number(q.before)) : undefined;
    const since = f.since ? parseSince(f.since) : undefined;
    const message = since === null ? `"${f.since}" is neither an ISO time nor a duration like 7d, 12h or 30m.` : null;
    const entries = message ? [] : await auditLog.list({
      repo: f.repo || undefined, actor: f.user || undefined, action: f.action || undefined, since: since ?? undefined, before, limit,
    });
    const older = entries.length === limit ? new URLSearchParams({ ...Object.fromEntries(Object.entries(f).filter(([, v]) => v)), limit: String(limit), before: String(entries[entries.length - 1].id) }) : null;
    const field = (name: keyof typeof f, label: string, hint: string) => html`<label for="audit-${name}">${label}</label>
<input id="audit-${name}" name="${name}" value="${f[name]}" placeholder="${hint}">`;
    return kit.show(req, reply, message ? 400 : 200, 'Audit trail', html`${adminNav}
<h1>Audit trail</h1>
<p class="muted">Every change, newest first: who (user, token), when, from which address, and what. Nothing here can be changed.</p>
<form class="stack" method="get" action="/-/admin/audit" aria-label="Filter">
${field('repo', 'Repository', 'any')}
${field('user', 'Who', 'a user, anonymous, cli or system')}
${field('action', 'Action', 'upload, delete-file, repo-* …')}
${field('since', 'Since', '7d, 12h or an ISO time')}
<p><button type="submit">Filter</button></p>
</form>
${notice(message)}<table id="audit">
<thead><tr><th scope="col">Time (UTC)</th><th scope="col">Who</th><th scope="col">Address</th><th scope="col">Repository</th><th scope="col">Action</th><th scope="col">What</th></tr></thead>
<tbody>
${entries.map((e) => html`<tr data-id="${e.id}"><td>${e.at.replace('T', ' ').slice(0, 19)}</td><td>${e.actor}${e.tokenName ? html` <span class="muted">(token ${e.tokenName})</span>` : ''}</td><td>${e.address ?? '—'}</td><td>${e.repo ?? '—'}</td><td>${e.action}</td><td>${auditWhat(e)}</td></tr>\n`)}</tbody>
</table>
${entries.length === 0 && !message ? html`<p>No entries.</p>` : ''}
${older ? html`<p><a rel="next" href="/-/admin/audit?${older.toString()}">Older entries</a></p>` : ''}`, { noStore: true });
  });
}

/** What an entry changed, in a line: its target and the details (old → new), JSON for the rest. */
function auditWhat(e: AuditRow): string {
  const parts = e.target ? [e.target] : [];
  for (const [k, v] of Object.entries(e.detail)) {
    if (k === 'files' && Array.isArray(v)) parts.push(`files: ${v.map((f: { path?: string }) => f.path).join(', ')}`);
    else if (Array.isArray(v) && v.length === 2 && v.every((x) => x === null || typeof x !== 'object')) parts.push(`${k}: ${v[0] ?? '—'} → ${v[1] ?? '—'}`);
    else parts.push(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return parts.join('; ');
}
