// The legacy upload API that twine speaks: one multipart/form-data POST per file, with the
// core metadata as form fields and the distribution in the `content` part.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, WharfError } from '../../core/errors.ts';
import type { RouteContext } from '../../core/format-plugin.ts';
import { readUploadForm } from '../../server/http/multipart-form.ts';
import { uploaderName } from '../../core/auth/principal.ts';

export async function handleUpload(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext): Promise<unknown> {
  if (!req.isMultipart()) {
    throw new WharfError('UNSUPPORTED_MEDIA_TYPE', 'uploads are multipart/form-data POSTs, as twine sends them');
  }
  const { fields, files } = await readUploadForm(req, ctx.blobs, {
    checkFile: (part, staged) => {
      if (part.fieldname !== 'content' || staged > 0) throw badRequest(`unexpected file part ${JSON.stringify(part.fieldname)}; send one file as "content"`);
    },
  });
  const staged = files[0]?.blob;
  const filename = files[0]?.filename ?? '';
  if (!staged) throw badRequest('no file: send the distribution as the "content" part');
  const result = await ctx.services.ingest(ctx.repo, { uploader: uploaderName(ctx.principal), staged, filename, fields });
  ctx.log.info({ repo: ctx.repo.name, file: filename, status: result.status, user: req.principal.kind === 'anonymous' ? null : req.principal.user.name }, 'upload');
  return reply.code(200).type('text/plain; charset=utf-8').send(result.status === 'created' ? 'OK\n' : 'OK (already uploaded)\n');
}
