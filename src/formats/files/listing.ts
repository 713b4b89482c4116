// Directory listings of a files repository, as a browser page and as JSON. Links are
// relative to the listing, so the pages keep working behind a proxy or under another host.

export interface ListingFile {
  name: string;
  size: number;
  /** ISO 8601 UTC. */
  modified: string;
  sha256: string;
}

export interface Listing {
  repository: string;
  /** '' for the root, else ending in '/'. */
  dir: string;
  dirs: string[];
  files: ListingFile[];
}

export interface ListingJson {
  repository: string;
  path: string;
  entries: (
    | { type: 'dir'; name: string; href: string }
    | { type: 'file'; name: string; href: string; size: number; modified: string; sha256: string }
  )[];
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Code-point order, the same on every machine (no locale). */
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A relative link to an entry: every reserved character encoded, so `a:b` is not a scheme and `#` not a fragment. */
export const entryHref = (name: string, isDir: boolean) => `${encodeURIComponent(name)}${isDir ? '/' : ''}`;

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

function sorted(listing: Listing): Listing {
  return { ...listing, dirs: [...listing.dirs].sort(byName), files: [...listing.files].sort((a, b) => byName(a.name, b.name)) };
}

export function renderListingJson(listing: Listing): ListingJson {
  const l = sorted(listing);
  return {
    repository: l.repository,
    path: `/${l.dir}`,
    entries: [
      ...l.dirs.map((name) => ({ type: 'dir' as const, name, href: entryHref(name, true) })),
      ...l.files.map((f) => ({ type: 'file' as const, name: f.name, href: entryHref(f.name, false), size: f.size, modified: f.modified, sha256: f.sha256 })),
    ],
  };
}

const STYLE = [
  'body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}',
  'h1{font-size:1.3rem;font-weight:600;word-break:break-all}',
  'table{border-collapse:collapse;width:100%}',
  'th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #eee}',
  'th{font-weight:600;border-bottom:2px solid #ddd}',
  'td.size,th.size{text-align:right;white-space:nowrap}',
  'td.date{white-space:nowrap;color:#555}',
  'td.name{word-break:break-all}',
  'a{color:#0645ad;text-decoration:none}a:hover{text-decoration:underline}',
  'p.empty{color:#777}',
].join('');

export function renderListingHtml(listing: Listing): string {
  const l = sorted(listing);
  const title = `Index of /${l.repository}/${l.dir}`;
  const rows: string[] = [];
  if (l.dir !== '') rows.push('<tr><td class="name"><a href="../">../</a></td><td class="size"></td><td class="date"></td></tr>');
  for (const name of l.dirs) {
    rows.push(`<tr><td class="name"><a href="${escapeHtml(entryHref(name, true))}">${escapeHtml(name)}/</a></td><td class="size">-</td><td class="date"></td></tr>`);
  }
  for (const f of l.files) {
    const date = `${f.modified.slice(0, 10)} ${f.modified.slice(11, 16)}`;
    rows.push(
      `<tr><td class="name"><a href="${escapeHtml(entryHref(f.name, false))}">${escapeHtml(f.name)}</a></td>`
        + `<td class="size" title="${f.size} bytes">${formatSize(f.size)}</td><td class="date"><time datetime="${escapeHtml(f.modified)}">${escapeHtml(date)}</time></td></tr>`,
    );
  }
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(title)}</h1>`,
    '<table>',
    '<thead><tr><th>Name</th><th class="size">Size</th><th>Modified (UTC)</th></tr></thead>',
    '<tbody>',
    ...rows,
    '</tbody>',
    '</table>',
    ...(l.dirs.length + l.files.length === 0 ? ['<p class="empty">This directory is empty.</p>'] : []),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/**
 * HTML or JSON: `?format=` wins, then an Accept header that prefers `application/json`
 * to `text/html`; anything else (browsers, curl's `*\/*`) gets HTML. Null: an unknown `format`.
 */
export function negotiateListing(accept: string | undefined, formatParam: string | undefined): 'html' | 'json' | null {
  if (formatParam !== undefined) {
    const p = formatParam.trim().toLowerCase();
    return p === 'json' ? 'json' : p === 'html' ? 'html' : null;
  }
  if (!accept) return 'html';
  let json = 0;
  let html = 0;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    const qv = Number.isFinite(q) ? q : 0;
    if (type === 'application/json') json = Math.max(json, qv);
    if (type === 'text/html') html = Math.max(html, qv);
  }
  return json > html ? 'json' : 'html';
}
