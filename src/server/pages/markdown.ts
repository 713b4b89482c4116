// Package descriptions as markup, safely: anyone who may upload writes them, and every viewer
// of a package page reads them. Markdown goes through markdown-it with raw HTML off (it comes
// out as escaped text), every link and image URL checked against an allow-list (http, https,
// mailto, relative), links marked nofollow, images shown only as links (the page's CSP would
// block an external image anyway, and a tracking pixel should not load by opening a page).
// Anything else (reStructuredText, plain text, Debian and Arch descriptions) is preformatted
// escaped text. Input is capped: a larger description is cut with a note.
import MarkdownIt from 'markdown-it';
import { html, Html } from './html.ts';

/** Descriptions longer than this (in UTF-16 code units, about bytes for ASCII) are cut. */
export const DESCRIPTION_CAP = 512 * 1024;

export interface Description {
  /** `markdown` is rendered; `text` is shown as it is, preformatted. */
  kind: 'markdown' | 'text';
  text: string;
}

const LINK_REL = 'nofollow noopener noreferrer';

/**
 * Whether a link's URL may be followed from a page: http, https, mailto, or relative (no
 * scheme at all). Browsers drop ASCII tabs and newlines anywhere in a URL and leading
 * control characters and spaces, so the scheme is judged on what they would see.
 */
export function allowedUrl(url: string): boolean {
  const seen = url.replace(/[\u0000-\u0020\u007f]/g, '');
  const scheme = /^([^/?#]*?):/.exec(seen);
  if (!scheme) return true;
  return /^(?:https?|mailto)$/i.test(scheme[1]);
}

function createRenderer(): MarkdownIt {
  const md = new MarkdownIt('default', { html: false, linkify: false, typographer: false });
  md.validateLink = allowedUrl;
  const rules = md.renderer.rules;
  // The description sits under the page's own h1 and h2: its headings start at h3.
  const heading = (tokens: { tag: string }[], idx: number) => {
    const level = Math.min(6, Number(tokens[idx].tag.slice(1)) + 2);
    tokens[idx].tag = `h${level}`;
  };
  rules.heading_open = (tokens, idx, options, _env, self) => {
    heading(tokens, idx);
    return self.renderToken(tokens, idx, options);
  };
  rules.heading_close = (tokens, idx, options, _env, self) => {
    heading(tokens, idx);
    return self.renderToken(tokens, idx, options);
  };
  rules.link_open = (tokens, idx, options, _env, self) => {
    tokens[idx].attrSet('rel', LINK_REL);
    return self.renderToken(tokens, idx, options);
  };
  // An image becomes a link to it, its alternative text the link's text.
  rules.image = (tokens, idx) => {
    const token = tokens[idx];
    const src = token.attrGet('src') ?? '';
    const alt = token.children ? md.renderer.renderInlineAsText(token.children, md.options, {}) : token.content;
    const label = alt.trim() === '' ? 'image' : alt;
    return html`<a href="${src}" rel="${LINK_REL}" class="image-link">[image: ${label}]</a>`.value;
  };
  return md;
}

let renderer: MarkdownIt | undefined;

/** Cuts text at the cap without splitting a surrogate pair. */
function capped(text: string): { text: string; cut: boolean } {
  if (text.length <= DESCRIPTION_CAP) return { text, cut: false };
  let end = DESCRIPTION_CAP;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return { text: text.slice(0, end), cut: true };
}

/** The description as markup for a package page. */
export function renderDescription(d: Description): Html {
  const { text, cut } = capped(d.text);
  const note = cut ? html`<p class="muted">The description is longer than ${DESCRIPTION_CAP / 1024} KiB; it is cut here.</p>` : '';
  if (d.kind === 'markdown') {
    renderer ??= createRenderer();
    return html`<div class="description markdown">${new Html(renderer.render(text))}</div>${note}`;
  }
  return html`<pre class="description">${text}</pre>${note}`;
}

