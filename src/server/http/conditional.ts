// Conditional requests: If-None-Match against a strong ETag.

export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  return acceptEncoding.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding.trim() !== 'gzip' && coding.trim() !== '*') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return !q || Number(q.slice(2)) > 0;
  });
}

/** If-Modified-Since, evaluated only when there is no If-None-Match (RFC 9110 §13.2.2). */
export function notModifiedSince(headers: { 'if-none-match'?: string; 'if-modified-since'?: string }, lastModified: string): boolean {
  if (headers['if-none-match'] || !headers['if-modified-since']) return false;
  const since = Date.parse(headers['if-modified-since']);
  if (Number.isNaN(since)) return false;
  return Math.floor(Date.parse(lastModified) / 1000) <= Math.floor(since / 1000);
}
