// Whether a request is a person's browser asking for a page. Browsers name `text/html`
// first (`text/html,application/xhtml+xml,…,*/*;q=0.8`); package clients either do not name
// it (apt, pacman, curl's `*/*`) or name PyPI's own types beside it (pip:
// `application/vnd.pypi.simple.v1+json, …, text/html;q=0.01`), and keep their answers.

export function wantsPage(accept: string | undefined): boolean {
  if (!accept) return false;
  let html = false;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    // Any PyPI simple API type marks a PyPI client, whatever else it accepts.
    if (type.startsWith('application/vnd.pypi.')) return false;
    if (type !== 'text/html') continue;
    const q = params.find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) html = true;
  }
  return html;
}
