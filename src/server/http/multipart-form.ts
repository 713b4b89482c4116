// Reading an upload sent as multipart/form-data (twine, curl -F, browsers): the fields, and
// each file part streamed to a staged blob. Whatever goes wrong in the body is the client's:
// busboy's complaints (no boundary, a truncated body, a broken part header) answer 400
// and parser limits 413, never 500; every blob staged so far is discarded.
import type { FastifyRequest } from 'fastify';
import { badRequest, isWharfError, tooLarge } from '../../core/errors.ts';
import type { BlobStore, StagedBlob } from '../../storage/blob-store.ts';

export interface FormFile {
  fieldname: string;
  filename: string;
  blob: StagedBlob;
}

export interface UploadForm {
  fields: Record<string, string[]>;
  files: FormFile[];
}

export interface ReadFormOptions {
  /** Fields known before the body (e.g. from the query string); form fields add to them. */
  fields?: Record<string, string[]>;
  /** Called before a file part is staged, with the files staged so far; throw to refuse it. */
  checkFile?: (part: { fieldname: string; filename: string }, staged: number) => void;
  /** The message of the 413 when the form has too many parts or files. */
  limitMessage?: string;
}

const LIMIT_CODES = new Set(['FST_FILES_LIMIT', 'FST_FIELDS_LIMIT', 'FST_PARTS_LIMIT', 'FST_REQ_FILE_TOO_LARGE']);
// The client went away: the error handler answers these (to nobody) without a 500.
const ABORT_CODES = new Set(['FST_MP_PREMATURE_CLOSE', 'ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET']);

/** What a failure while reading the form means for the client. */
export function formError(err: unknown, limitMessage?: string): unknown {
  if (isWharfError(err)) return err;
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown; syscall?: unknown };
  if (typeof e.code === 'string' && LIMIT_CODES.has(e.code)) return tooLarge(limitMessage ?? String(e.message));
  if (typeof e.code === 'string' && ABORT_CODES.has(e.code)) return err;
  // A failing disk is the server's problem, not the body's.
  if (e.syscall !== undefined) return err;
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return err;
  return badRequest(`malformed multipart/form-data body: ${String(e.message ?? err)}`);
}

export async function readUploadForm(req: FastifyRequest, blobs: BlobStore, opts: ReadFormOptions = {}): Promise<UploadForm> {
  const fields: Record<string, string[]> = { ...opts.fields };
  const files: FormFile[] = [];
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        try {
          opts.checkFile?.({ fieldname: part.fieldname, filename: part.filename }, files.length);
        } catch (err) {
          part.file.resume();
          throw err;
        }
        const blob = await blobs.stage(part.file);
        files.push({ fieldname: part.fieldname, filename: part.filename, blob });
        if (part.file.truncated) throw tooLarge('the file exceeds the upload limit');
      } else {
        if (part.valueTruncated) throw tooLarge(`form field ${part.fieldname} is too large`);
        (fields[part.fieldname] ??= []).push(String(part.value));
      }
    }
  } catch (err) {
    for (const f of files) await blobs.discard(f.blob);
    throw formError(err, opts.limitMessage);
  }
  return { fields, files };
}
