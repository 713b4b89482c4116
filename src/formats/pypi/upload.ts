// The legacy upload API that twine speaks: one multipart/form-data POST per file, with the
// core metadata as form fields and the distribution in the `content` part.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, tooLarge, WharfError } from '../../core/errors.ts';
import type { RouteContext } from '../../core/format-plugin.ts';
import type { StagedBlob } from '../../storage/blob-store.ts';

export async function handleUpload(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext): Promise<unknown> {
  if (!req.isMultipart()) {
    throw new WharfError('UNSUPPORTED_MEDIA_TYPE', 'uploads are multipart/form-data POSTs, as twine sends them');
  }
  const fields: Record<string, string[]> = {};
  let staged: StagedBlob | undefined;
  let filename = '';
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'content' || staged) {
          part.file.resume();
          throw badRequest(`unexpected file part ${JSON.stringify(part.fieldname)}; send one file as "content"`);
        }
        filename = part.filename;
        staged = await ctx.blobs.stage(part.file);
        if (part.file.truncated) throw tooLarge('the file exceeds the upload limit');
      } else {
        if (part.valueTruncated) throw tooLarge(`form field ${part.fieldname} is too large`);
        (fields[part.fieldname] ??= []).push(String(part.value));
      }
    }
  } catch (err) {
    if (staged) await ctx.blobs.discard(staged);
    const code = (err as { code?: string }).code;
    if (code === 'FST_FILES_LIMIT' || code === 'FST_FIELDS_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_REQ_FILE_TOO_LARGE') {
      throw tooLarge((err as Error).message);
    }
    throw err;
  }
  if (!staged) throw badRequest('no file: send the distribution as the "content" part');
  const result = await ctx.services.ingest(ctx.repo, { staged, filename, fields });
  ctx.log.info({ repo: ctx.repo.name, file: filename, status: result.status, user: req.principal.kind === 'anonymous' ? null : req.principal.user.name }, 'upload');
  return reply.code(200).type('text/plain; charset=utf-8').send(result.status === 'created' ? 'OK\n' : 'OK (already uploaded)\n');
}
