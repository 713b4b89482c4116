// HTTP Range (RFC 9110 §14) for single byte ranges. Several ranges in one request are
// answered with the whole body, which the RFC allows.
import type { ByteRange } from '../../storage/blob-store.ts';

export type RangeResult = { kind: 'none' } | { kind: 'range'; range: ByteRange } | { kind: 'unsatisfiable' };

export function parseRange(header: string | undefined, size: number): RangeResult {
  if (!header) return { kind: 'none' };
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header.trim());
  if (!m) return { kind: 'none' }; // multiple or malformed ranges: serve the whole body
  const [, a, b] = m;
  if (a === '' && b === '') return { kind: 'none' };
  let start: number;
  let end: number;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
    if (b !== '' && Number(b) < start) return { kind: 'none' };
  }
  if (start >= size || size === 0) return { kind: 'unsatisfiable' };
  return { kind: 'range', range: { start, end } };
}
