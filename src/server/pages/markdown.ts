// Package descriptions as markup, safely: anyone who may upload writes them, and every viewer
// of a package page reads them. Markdown goes through markdown-it with raw HTML off (it comes
// out as escaped text), every link and image URL checked against an allow-list (http, https,
// mailto, relative), links marked nofollow, images shown only as links (the page's CSP would
// block an external image anyway, and a tracking pixel should not load by opening a page).
// Anything else (reStructuredText, plain text, Debian and Arch descriptions) is preformatted
// escaped text. Input is capped: a larger description is cut with a note.
// Cost: markdown-it spends up to a few milliseconds per KiB on hostile input (`![` or `[`
// repeated), so only Markdown up to MARKDOWN_CAP is rendered (longer is shown as its text,
// which costs an escape), and each rendering is kept (by the text's hash) for later views.
import { createHash } from 'node:crypto';
import MarkdownIt from 'markdown-it';
import { html, Html } from './html.ts';

/** Descriptions longer than this (in UTF-16 code units, about bytes for ASCII) are cut. */
export const DESCRIPTION_CAP = 512 * 1024;
/** Markdown longer than this is shown as preformatted text: at most about 0.3 s to render, once. */
export const MARKDOWN_CAP = 64 * 1024;
/** Renderings kept, in characters of output (least recently shown forgotten first). */
const KEPT_CHARS = 16 * 1024 * 1024;

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

const kept = new Map<string, Html>();
let keptChars = 0;

/** The description as markup for a package page. */
export function renderDescription(d: Description): Html {
  const { text, cut } = capped(d.text);
  const key = createHash('sha256').update(`${d.kind}\0${cut ? 'cut' : ''}\0`).update(text).digest('base64url');
  const hit = kept.get(key);
  if (hit) {
    kept.delete(key);
    kept.set(key, hit);
    return hit;
  }
  const out = render(d.kind, text, cut);
  kept.set(key, out);
  keptChars += out.value.length;
  for (const [k, v] of kept) {
    if (keptChars <= KEPT_CHARS) break;
    kept.delete(k);
    keptChars -= v.value.length;
  }
  return out;
}

function render(kind: Description['kind'], text: string, cut: boolean): Html {
  const note = cut ? html`<p class="muted">The description is longer than ${DESCRIPTION_CAP / 1024} KiB; it is cut here.</p>` : '';
  if (kind === 'markdown' && text.length <= MARKDOWN_CAP) {
    renderer ??= createRenderer();
    return html`<div class="description markdown">${new Html(renderer.render(text))}</div>${note}`;
  }
  const asText = kind === 'markdown' ? html`<p class="muted">The description is Markdown longer than ${MARKDOWN_CAP / 1024} KiB: it is shown as its text.</p>\n` : '';
  return html`${asText}<pre class="description">${text}</pre>${note}`;
}

