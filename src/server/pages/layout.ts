// The frame of every page: landmarks (header, nav, main, footer), a little CSS that follows
// the browser's light or dark preference, and no script: every page works without one.
import { html, raw, type Html } from './html.ts';
import type { Viewer } from './session.ts';

const STYLE = raw([
  ':root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--bg:#fff;--panel:#f6f8fa;--line:#d1d9e0;--link:#0550ae;--badge:#eaeef2}',
  '@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--panel:#151b23;--line:#3d444d;--link:#4493f8;--badge:#262c36}}',
  'body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:var(--fg);background:var(--bg);line-height:1.5}',
  'header,main,footer{max-width:60rem;margin:0 auto;padding:0 1rem}',
  'header{display:flex;flex-wrap:wrap;gap:1rem;align-items:baseline;border-bottom:1px solid var(--line);padding-top:.8rem;padding-bottom:.8rem}',
  'header .brand{font-weight:700;font-size:1.1rem}header nav ul{display:flex;gap:1rem;list-style:none;margin:0;padding:0}',
  'header .viewer{margin-left:auto;color:var(--muted)}',
  'h1{font-size:1.5rem;margin:1.2rem 0 .4rem;word-break:break-all}h2{font-size:1.15rem;margin:1.6rem 0 .4rem}',
  'a{color:var(--link)}a:focus-visible{outline:2px solid var(--link);outline-offset:2px}',
  'table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid var(--line)}',
  'th{font-weight:600}.badge{display:inline-block;background:var(--badge);border-radius:1rem;padding:0 .55rem;font-size:.85rem;margin-right:.3rem}',
  'pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.7rem;overflow-x:auto;margin:.3rem 0 1rem}',
  'code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9rem}',
  '.file{color:var(--muted);font-size:.9rem;margin:.2rem 0 0}.muted{color:var(--muted)}',
  'footer{border-top:1px solid var(--line);margin-top:2.5rem;padding-top:.8rem;padding-bottom:1.5rem;color:var(--muted);font-size:.9rem}',
  // Forms of the account and administration pages.
  'header form.signout{margin:0}input,select,button{font:inherit}form.stack label{display:block;margin:.7rem 0 .2rem}',
  'form.stack input:not([type=radio]):not([type=checkbox]),form.stack select{min-width:min(24rem,100%)}form.stack fieldset{margin:.8rem 0;border:1px solid var(--line)}',
  '.notice{border-left:4px solid var(--link);background:var(--panel);padding:.5rem .9rem;margin:.8rem 0}button.danger{color:#fff;background:#b42318;border:1px solid #b42318}',
  'main nav ul{display:flex;gap:1rem;list-style:none;padding:0;margin:.8rem 0 0}.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}',
].join(''));

export interface PageFrame {
  title: string;
  /** Who is looking, or null for anonymous viewers. */
  viewer: Viewer | null;
  version: string;
  /** Where the home page is, as a root-relative or absolute URL. */
  home: string;
  body: Html;
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
<style>${STYLE}</style>
</head>
<body>
<header>
<a class="brand" href="${p.home}">Wharf</a>
<nav aria-label="Site"><ul><li><a href="${p.home}">Repositories</a></li></ul></nav>
${viewer}
</header>
<main>
${p.body}
</main>
<footer>Wharf ${p.version}</footer>
</body>
</html>
`.value;
}
