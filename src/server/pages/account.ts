// Signing in and out through a form, and a signed-in user's own tokens: list, create (the
// secret shown once, with the exact client set-up that uses it), revoke.
import * as accounts from '../../core/auth/account-changes.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isValidRepoPattern } from '../../core/auth/patterns.ts';
import { can, type Principal } from '../../core/auth/principal.ts';
import type { SessionPrincipal } from '../../core/auth/sessions.ts';
import { generateToken, hashToken } from '../../core/auth/tokens.ts';
import { isWharfError, notFound, WharfError } from '../../core/errors.ts';
import type { SetupSection } from '../../core/format-plugin.ts';
import { groupOptionsOf } from '../../core/group.ts';
import { PERMISSIONS, type Permission, type TokenRow } from '../../core/model.ts';
import { fillToken } from '../../core/setup-snippets.ts';
import { CSRF_FIELD, checkSessionForm, newLoginCsrf } from './csrf.ts';
import type { PageKit } from './form-routes.ts';
import { formOf } from './forms.ts';
import { html, type Html } from './html.ts';
import { LOGIN_CSRF_COOKIE, SESSION_COOKIE, cookie, cookieValue, sessionSecretOf } from './session.ts';
import { siteFor } from './site.ts';

/**
 * Where to go after signing in: a path on this site, or `/`. Never another site: not an
 * absolute URL, not `//host` or `/\host` (browsers read both as a host), nothing that
 * resolves away from this origin.
 */
export function safeNext(next: string): string {
  if (!next.startsWith('/') || next.startsWith('//') || /[\\\x00-\x1f\x7f]/.test(next)) return '/';
  const base = 'http://wharf.invalid';
  let u: URL;
  try {
    u = new URL(next, base);
  } catch {
    return '/';
  }
  if (u.origin !== base) return '/';
  // Dot segments are resolved here (`/.//host` becomes `//host`): what is sent must still be a path.
  const path = `${u.pathname}${u.search}${u.hash}`;
  return path.startsWith('//') || path.startsWith('/\\') ? '/' : path;
}

/**
 * The signed-in browser; null for anonymous viewers (send them to `loginUrl`). A viewer with
 * HTTP Basic credentials or a token is told why these pages are not for them.
 */
export function signedIn(req: FastifyRequest): SessionPrincipal | null {
  const p = req.principal;
  if (p.kind === 'session') return p;
  if (p.kind === 'anonymous') return null;
  throw new WharfError('FORBIDDEN', 'these pages need a sign-in through the form (/-/login): this browser sends HTTP Basic credentials or a token, which forms cannot protect against other sites; close the browser to forget them, or use the CLI');
}

export const loginUrl = (here: string) => `/-/login?next=${encodeURIComponent(here)}`;

const LOGIN_CSRF_SECONDS = 2 * 3600;

function loginForm(csrf: string, next: string, username: string, message: string | null): Html {
  return html`<h1>Sign in</h1>
${message ? html`<p class="notice" role="alert">${message}</p>\n` : ''}<form class="stack" method="post" action="/-/login">
<input type="hidden" name="${CSRF_FIELD}" value="${csrf}">
<input type="hidden" name="next" value="${next}">
<label for="username">User name</label>
<input id="username" name="username" autocomplete="username" required value="${username}" autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<p><button type="submit">Sign in</button></p>
</form>
<p class="muted">Package clients (pip, twine, apt, pacman) use tokens: create them once signed in.</p>`;
}

const when = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : 'never');

function tokenRows(tokens: TokenRow[], csrf: string): Html {
  if (tokens.length === 0) return html`<p class="muted">You have no tokens.</p>`;
  return html`<table>
<thead><tr><th scope="col">Name</th><th scope="col">Repositories</th><th scope="col">Permission</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col"><span class="visually-hidden">Revoke</span></th></tr></thead>
<tbody>
${tokens.map((t) => html`<tr><td>${t.name}</td><td>${t.repos.join(' ')}</td><td>${t.permission}</td><td>${when(t.createdAt)}</td><td>${when(t.lastUsedAt)}</td><td>${when(t.expiresAt)}</td>
<td><form method="post" action="/-/tokens/${encodeURIComponent(t.id)}/revoke"><input type="hidden" name="${CSRF_FIELD}" value="${csrf}"><button type="submit" aria-label="Revoke ${t.name}">Revoke</button></form></td></tr>\n`)}</tbody>
</table>`;
}

interface TokenInput { name: string; repos: string; permission: string; days: string }

function createForm(csrf: string, v: TokenInput, message: string | null): Html {
  return html`<h2 id="create">Create a token</h2>
${message ? html`<p class="notice" role="alert">${message}</p>\n` : ''}<form class="stack" method="post" action="/-/tokens" aria-labelledby="create">
<input type="hidden" name="${CSRF_FIELD}" value="${csrf}">
<label for="token-name">Name</label>
<input id="token-name" name="name" required maxlength="100" value="${v.name}">
<label for="token-repos">Repositories (names or patterns such as <code>team-*</code>, separated by spaces; <code>*</code>: all)</label>
<input id="token-repos" name="repos" value="${v.repos}">
<label for="token-permission">Permission</label>
<select id="token-permission" name="permission">${PERMISSIONS.map((p) => html`<option value="${p}"${p === v.permission ? html` selected` : ''}>${p}</option>`)}</select>
<label for="token-days">Expires after (days; empty: never)</label>
<input id="token-days" name="days" inputmode="numeric" value="${v.days}">
<p><button type="submit">Create token</button></p>
</form>`;
}

function codeBlock(code: string): Html {
  return html`<pre><code>${code}</code></pre>
<button type="button" class="copy" data-copy="${code}">Copy</button>`;
}

function usage(repoName: string, sections: SetupSection[]): Html {
  if (sections.length === 0) return html``;
  return html`<h3>Using it with ${repoName}</h3>
${sections.map((s) => html`<h4>${s.title}</h4>
${s.steps.map((st) => html`<p>${st.text}</p>
${st.file ? html`<p class="file">File: <code>${st.file}</code></p>\n` : ''}${st.code !== undefined ? codeBlock(st.code) : ''}`)}`)}`;
}

export function registerAccountPages(kit: PageKit): void {
  const { wharf } = kit;

  kit.get('/-/login', async (req, reply) => {
    const existing = cookieValue(req.headers.cookie, LOGIN_CSRF_COOKIE);
    // The same value in every tab this browser opened the form in.
    const csrf = existing && /^[A-Za-z0-9_-]{32}$/.test(existing) ? existing : newLoginCsrf();
    reply.header('set-cookie', cookie(req, LOGIN_CSRF_COOKIE, csrf, LOGIN_CSRF_SECONDS));
    const next = safeNext(String((req.query as { next?: unknown }).next ?? '/'));
    return kit.show(req, reply, 200, 'Sign in', loginForm(csrf, next, '', null));
  });

  kit.formRoute('/-/login', async (req, reply) => {
    const f = formOf(req.body);
    const username = f.get('username');
    const next = safeNext(f.get('next') || '/');
    const again = (status: number, message: string) => kit.show(req, reply, status, 'Sign in', loginForm(f.get(CSRF_FIELD), next, username, message));
    let user;
    try {
      ({ user } = await wharf.auth.login(username, f.get('password'), req.ip));
    } catch (err) {
      if (!isWharfError(err)) throw err;
      if (err.code === 'TOO_MANY_REQUESTS') {
        reply.header('retry-after', err.headers['retry-after'] ?? '60');
        return again(429, `Too many failed sign-ins from here: try again in ${err.headers['retry-after'] ?? 60} seconds.`);
      }
      if (err.code === 'UNAUTHORIZED') return again(401, 'Wrong user name or password.');
      throw err;
    }
    // A new secret at every sign-in; the session this browser had before ends.
    const previous = sessionSecretOf(req);
    if (previous) await wharf.sessions.end(previous);
    const { secret } = await wharf.sessions.create(user);
    reply.header('set-cookie', cookie(req, SESSION_COOKIE, secret, wharf.sessions.options.maxAgeMs / 1000));
    reply.header('set-cookie', cookie(req, LOGIN_CSRF_COOKIE, '', 0));
    req.log.info({ user: user.name }, 'signed in');
    return reply.redirect(next, 303);
  }, { login: true });

  kit.formRoute('/-/logout', async (req, reply) => {
    const secret = sessionSecretOf(req);
    if (secret) await wharf.sessions.end(secret);
    reply.header('set-cookie', cookie(req, SESSION_COOKIE, '', 0));
    return reply.redirect('/', 303);
  });

  const tokensPage = async (req: FastifyRequest, reply: FastifyReply, p: SessionPrincipal, status: number, input: TokenInput, message: string | null, created?: Html) =>
    kit.show(req, reply, status, 'Tokens', html`<h1>Your tokens</h1>
${created ?? ''}<p>Tokens let package clients and the CLI act for you, within their repositories and permission and never beyond yours. The secret is shown once, when it is made.</p>
${tokenRows(await wharf.store.listTokens(p.user.id), p.session.csrf)}
${createForm(p.session.csrf, input, message)}`, { noStore: created !== undefined });
  const blank: TokenInput = { name: '', repos: '*', permission: 'write', days: '' };

  kit.get('/-/tokens', async (req, reply) => {
    const p = signedIn(req);
    if (!p) return reply.redirect(loginUrl('/-/tokens'), 303);
    return tokensPage(req, reply, p, 200, blank, null);
  });

  kit.formRoute('/-/tokens', async (req, reply) => {
    const p = checkSessionForm(req);
    const f = formOf(req.body);
    const input: TokenInput = { name: f.get('name').trim(), repos: f.get('repos').trim() || '*', permission: f.get('permission') || 'write', days: f.get('days').trim() };
    const repos = input.repos.split(/[\s,]+/).filter(Boolean);
    const refuse = (message: string) => tokensPage(req, reply, p, 400, input, message);
    if (!input.name || input.name.length > 100) return refuse('Give the token a name of at most 100 characters.');
    if (repos.length > 100) return refuse('At most 100 repository patterns.');
    const bad = repos.find((r) => !isValidRepoPattern(r));
    if (bad !== undefined) return refuse(`"${bad}" is not a repository name or pattern.`);
    if (!(PERMISSIONS as readonly string[]).includes(input.permission)) return refuse('Choose read, write or admin.');
    let expiresAt: string | null = null;
    if (input.days) {
      const days = Number(input.days);
      if (!Number.isFinite(days) || days <= 0 || days > 36_500) return refuse('The expiry is a number of days above 0, or empty for none.');
      expiresAt = new Date(Date.now() + days * 86_400_000).toISOString();
    }
    const { id, token } = generateToken();
    const row = await accounts.createToken(wharf.store, p.user, { id, name: input.name, secretHash: hashToken(token), repos, permission: input.permission as Permission, expiresAt });
    req.log.info({ user: p.user.name, token: id }, 'token created in the pages');
    const created = html`<section class="notice" aria-labelledby="new-token-title">
<h2 id="new-token-title">Token ${row.name} created</h2>
<p>Copy it now: it is not shown again.</p>
<pre><code id="new-token">${token}</code></pre>
<button type="button" class="copy" data-copy="${token}">Copy token</button>
${await usageFor(req, p, row, token)}
</section>
`;
    return tokensPage(req, reply, p, 201, blank, null, created);
  });

  /** The set-up of the first repository the token may write to (or else read), with the token filled in. */
  async function usageFor(req: FastifyRequest, p: SessionPrincipal, row: TokenRow, token: string): Promise<Html> {
    const as: Principal = { kind: 'token', user: p.user, grants: p.grants, token: row };
    const repos = wharf.listRepos().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const uploads = (r: (typeof repos)[number]) => r.kind === 'hosted' || (r.kind === 'group' && groupOptionsOf(r).uploadTo !== null);
    const repo = repos.find((r) => uploads(r) && can(as, r, 'write')) ?? repos.find((r) => can(as, r, 'read'));
    if (!repo) return html`<p class="muted">It may use no repository yet.</p>`;
    const site = siteFor(req);
    const plugin = wharf.pluginFor(repo);
    const sections = (await plugin.setupGuide?.(wharf.contextFor(repo), { server: site.server, url: site.repoUrl(repo), private: true, uploads: uploads(repo) && can(as, repo, 'write') })) ?? [];
    return usage(repo.name, fillToken(sections, token));
  }

  kit.formRoute('/-/tokens/:id/revoke', async (req, reply) => {
    const p = checkSessionForm(req);
    const t = await wharf.store.getTokenById((req.params as { id: string }).id);
    if (!t || t.userId !== p.user.id) throw notFound('no such token');
    await accounts.revokeToken(wharf.store, t);
    req.log.info({ user: p.user.name, token: t.id }, 'token revoked in the pages');
    return reply.redirect('/-/tokens', 303);
  });
}
