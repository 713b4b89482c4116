// PEP 691 content negotiation for the simple API: which of HTML and JSON a client
// gets, from its Accept header (with q-values) or a `?format=` override.

export type SimpleFormat = 'html' | 'json';

export const MEDIA_JSON_V1 = 'application/vnd.pypi.simple.v1+json';
export const MEDIA_JSON_LATEST = 'application/vnd.pypi.simple.latest+json';
export const MEDIA_HTML_V1 = 'application/vnd.pypi.simple.v1+html';
export const MEDIA_HTML_LATEST = 'application/vnd.pypi.simple.latest+html';
export const MEDIA_TEXT_HTML = 'text/html';

/**
 * What the server offers, in its order of preference for ties (JSON first, as
 * Warehouse). Wildcards (`*\/*`, `text/*`, `application/*`) never select JSON: a
 * client that does not name the JSON type explicitly gets the HTML every client reads.
 */
const OFFERS: { type: string; format: SimpleFormat; wildcardable: boolean }[] = [
  { type: MEDIA_JSON_V1, format: 'json', wildcardable: false },
  { type: MEDIA_JSON_LATEST, format: 'json', wildcardable: false },
  { type: MEDIA_HTML_V1, format: 'html', wildcardable: true },
  { type: MEDIA_HTML_LATEST, format: 'html', wildcardable: true },
  { type: MEDIA_TEXT_HTML, format: 'html', wildcardable: true },
];

/**
 * The Content-Type to send. HTML goes out as `text/html` rather than
 * `application/vnd.pypi.simple.v1+html`: pip (≥ 22.2) accepts both, and older
 * clients and browsers only understand the former.
 */
export function contentTypeFor(format: SimpleFormat): string {
  return format === 'json' ? MEDIA_JSON_V1 : 'text/html; charset=utf-8';
}

interface MediaRange { type: string; subtype: string; q: number }

function parseAccept(accept: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const part of accept.split(',')) {
    const [mediaType, ...params] = part.split(';').map((s) => s.trim());
    const slash = mediaType.indexOf('/');
    if (slash <= 0 || slash === mediaType.length - 1) continue; // not a media range
    let q = 1;
    for (const p of params) {
      const eq = p.indexOf('=');
      if (eq !== -1 && p.slice(0, eq).trim().toLowerCase() === 'q') {
        const n = Number(p.slice(eq + 1).trim());
        q = Number.isFinite(n) ? Math.min(Math.max(n, 0), 1) : 0;
      }
    }
    ranges.push({ type: mediaType.slice(0, slash).toLowerCase(), subtype: mediaType.slice(slash + 1).toLowerCase(), q });
  }
  return ranges;
}

/** The q a client gives one offer: from its most specific matching range (RFC 9110 §12.5.1). */
function qualityOf(offer: (typeof OFFERS)[number], ranges: MediaRange[]): number {
  const [type, subtype] = offer.type.split('/');
  let best = -1;
  let q = 0;
  for (const r of ranges) {
    let specificity: number;
    if (r.type === type && r.subtype === subtype) specificity = 2;
    else if (r.type === type && r.subtype === '*' && offer.wildcardable) specificity = 1;
    else if (r.type === '*' && r.subtype === '*' && offer.wildcardable) specificity = 0;
    else continue;
    if (specificity > best) { best = specificity; q = r.q; }
  }
  return q;
}

/** `?format=` values that force a format: a short name or one of the media types. */
export function formatFromParam(param: string | undefined): SimpleFormat | null {
  if (param === undefined) return null;
  const p = param.trim().toLowerCase();
  if (p === 'json' || p === MEDIA_JSON_V1 || p === MEDIA_JSON_LATEST) return 'json';
  if (p === 'html' || p === MEDIA_HTML_V1 || p === MEDIA_HTML_LATEST || p === MEDIA_TEXT_HTML) return 'html';
  return null;
}

/**
 * The format to answer with, or null when the client accepts neither (406).
 * A valid `formatParam` wins over Accept; a missing or empty Accept means HTML.
 */
export function negotiateSimpleFormat(accept: string | undefined, formatParam?: string): SimpleFormat | null {
  const forced = formatFromParam(formatParam);
  if (forced) return forced;
  if (accept === undefined || accept.trim() === '') return 'html';
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return 'html'; // nothing parseable: treat as no preference
  let chosen: SimpleFormat | null = null;
  let bestQ = 0;
  for (const offer of OFFERS) {
    const q = qualityOf(offer, ranges);
    if (q > bestQ) { bestQ = q; chosen = offer.format; }
  }
  return chosen;
}
