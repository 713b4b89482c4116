// The frame of every page: a skip link, landmarks (header, nav, search, main, footer), the
// style sheet and script from /-/static/ (the CSP allows no inline ones; every page works
// without the script), a search box on every page.
import { html, type Html } from './html.ts';
import type { Viewer } from './session.ts';
import { STATIC_URLS } from './static.ts';

/** Where the search page is (its form is a plain GET; the script adds search as you type). */
export const SEARCH_PATH = '/-/search';

export interface PageFrame {
  title: string;
  /** Who is looking, or null for anonymous viewers. */
  viewer: Viewer | null;
  version: string;
  /** Where the home page is, as a root-relative or absolute URL. */
  home: string;
  body: Html;
  /** The query to show in the header's search box. */
  query?: string;
}

/** The header's account part: sign in, or who is signed in with their links and the sign-out form. */
function viewerPart(v: Viewer | null): Html {
  if (v === null) return html`<span class="viewer">Not signed in · <a href="/-/login">Sign in</a></span>`;
  // HTTP Basic (or a token) in the browser: nothing to sign out of; forms need a session.
  if (v.csrf === null) return html`<span class="viewer">Signed in as ${v.name}</span>`;
  return html`<span class="viewer">Signed in as <strong>${v.name}</strong></span>
<nav aria-label="Account"><ul><li><a href="/-/tokens">Tokens</a></li>${v.admin ? html`<li><a href="/-/admin/repositories">Admin</a></li>` : ''}</ul></nav>
<form class="signout" method="post" action="/-/logout"><input type="hidden" name="csrf" value="${v.csrf}"><button type="submit">Sign out</button></form>`;
}

export function layout(p: PageFrame): string {
  const viewer = viewerPart(p.viewer);
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${p.title}</title>
<link rel="stylesheet" href="${STATIC_URLS.css}">
<script src="${STATIC_URLS.js}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
<a class="brand" href="${p.home}">Wharf</a>
<nav aria-label="Site"><ul><li><a href="${p.home}">Repositories</a></li><li><a href="${SEARCH_PATH}">Search</a></li></ul></nav>
<form role="search" aria-label="Site search" action="${SEARCH_PATH}" method="get" data-suggest><label for="site-search" class="visually-hidden">Search packages</label><input type="search" id="site-search" name="q" value="${p.query ?? ''}" placeholder="Search packages"><button type="submit">Search</button></form>
${viewer}
</header>
<main id="main" tabindex="-1">
${p.body}
</main>
<footer>Wharf ${p.version}</footer>
</body>
</html>
`.value;
}
