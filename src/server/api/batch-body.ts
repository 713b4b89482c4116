// The body of a batch upload: a tar stream, one entry per file, named by the file name a single
// upload takes as `filename`. An entry's pax record `WHARF.query` holds what a single upload
// takes in its query (format parameters such as suite and component, and sha256), as a query
// string; it adds to (and per key replaces) the batch request's own query. Pure reading: the
// caller stages each entry's bytes.
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { badRequest, tooLarge, type WharfError } from '../../core/errors.ts';

export const BATCH_QUERY_RECORD = 'WHARF.query';

export type BatchEntry =
  | { filename: string; fields: Record<string, string[]>; sha256?: string; size: number; body: Readable }
  | { filename: string; error: WharfError };

export interface BatchBodyOptions {
  /** The largest file an entry may hold (a single upload's limit). */
  maxEntryBytes: number;
  /** Format parameters for every entry (the request's query, `filename` and `sha256` left out). */
  fields: Record<string, string[]>;
}

/**
 * Read the entries one after another; `onEntry` must consume an entry's `body` before it
 * resolves. An entry refused before its bytes are read (not a regular file, a bad name, too
 * large) is passed on with its error, its bytes skipped. Rejects with a 400 if the body is not
 * a well-formed tar stream (entries before the fault have been passed on).
 */
export async function readBatchBody(body: Readable, opts: BatchBodyOptions, onEntry: (entry: BatchEntry) => Promise<void>): Promise<number> {
  const extract = tar.extract();
  body.on('error', (err) => extract.destroy(err));
  body.pipe(extract);
  let entries = 0;
  try {
    for await (const entry of extract) {
      entries++;
      const h = entry.header;
      const refused = refusal(h, opts.maxEntryBytes);
      if (refused) {
        entry.resume();
        await onEntry({ filename: h.name, error: refused });
        continue;
      }
      const fields: Record<string, string[]> = { ...opts.fields };
      let sha256: string | undefined;
      const query = (h.pax as Record<string, string> | undefined)?.[BATCH_QUERY_RECORD];
      if (query !== undefined) {
        const own: Record<string, string[]> = {};
        for (const [k, v] of new URLSearchParams(query)) (own[k] ??= []).push(v);
        sha256 = own.sha256?.[0];
        delete own.sha256;
        delete own.filename;
        Object.assign(fields, own);
      }
      await onEntry({ filename: h.name, fields, sha256, size: h.size ?? 0, body: Readable.from(entry as AsyncIterable<Buffer>, { objectMode: false }) });
    }
  } catch (err) {
    body.unpipe(extract);
    if (isTarFault(err)) throw badRequest(`the batch body is not a well-formed tar stream after ${entries} entries: ${(err as Error).message}`);
    throw err;
  }
  return entries;
}

function refusal(h: tar.Header, maxBytes: number): WharfError | undefined {
  if (h.type !== 'file') return badRequest(`entry ${h.name}: only regular files are taken, not ${h.type}`);
  if (!h.name || h.name.length > 255 || h.name.includes('/')) return badRequest(`entry ${JSON.stringify(h.name)}: a file name of 1 to 255 characters without '/' is needed`);
  if ((h.size ?? 0) > maxBytes) return tooLarge(`${h.name}: exceeds the limit of ${maxBytes} bytes`);
  return undefined;
}

/** tar-stream's own errors (a bad header, a truncated stream), not the body's or a consumer's. */
function isTarFault(err: unknown): boolean {
  const m = (err as Error)?.message ?? '';
  return /Invalid tar header|Unexpected end of data|Invalid header|Header exceeds max size/i.test(m);
}
