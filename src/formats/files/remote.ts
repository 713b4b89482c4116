// Files proxy and group repositories. A proxy mirrors any HTTP base URL: files are fetched
// on first request and kept for good (an HTML error page is never stored as a tarball);
// directory listings pass through from the upstream, cached for metadataTtl. A group
// serves each path from its first member that has it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../../core/errors.ts';
import type { RouteContext } from '../../core/format-plugin.ts';
import { groupAnswerRepo } from '../../core/group.ts';
import type { ContentResult } from '../../core/proxy/content-cache.ts';
import { looksLike } from '../../core/proxy/looks-like.ts';
import { conditionalFetch } from '../../core/proxy/metadata-cache.ts';
import { proxyOptionsOf } from '../../core/proxy/options.ts';
import { UpstreamUnavailable } from '../../core/proxy/upstream.ts';
import { markStale, sendFile, sendIndex, sendProxied } from '../../server/http/send.ts';
import { baseName, listingKey, type RequestPath } from './paths.ts';
import { cooldownOf, cooldownsForPath, strictest, tooYoung, tooYoungError, type Cooldown } from '../../core/cooldown.ts';
import type { FileRow } from '../../core/model.ts';

const MAX_DEPTH = 4;
const encodePath = (segments: string[]) => segments.map(encodeURIComponent).join('/');

/**
 * A file's age under a cooldown: the upstream's Last-Modified when it sent one, else the time
 * this proxy first fetched it (files have no index that gives upload times).
 */
const storedAge = (f: FileRow) => (typeof f.meta.upstreamLastModified === 'string' ? f.meta.upstreamLastModified : sqlTime(f.createdAt));
const sqlTime = (t: string) => (/^\d{4}-\d{2}-\d{2} \d/.test(t) ? `${t.replace(' ', 'T')}Z` : t);
const httpTime = (v: string | null) => {
  const t = v ? Date.parse(v) : NaN;
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
};

/**
 * A proxied file: stored, or fetched now. Under a cooldown (this proxy's or an `outer`
 * group's), a file younger than minAge is not found; one fetched now is kept all the same and
 * served once it is old enough.
 */
async function proxyFile(ctx: RouteContext, path: string, segments: string[], outer: readonly Cooldown[] = []): Promise<ContentResult> {
  const cooldown = strictest(cooldownsForPath([cooldownOf(ctx.repo), ...outer], path));
  const cached = await ctx.store.getFileByPath(ctx.repo.id, path);
  if (cached) {
    if (tooYoung(cooldown, storedAge(cached))) throw tooYoungError(path, cooldown!);
    return { kind: 'stored', file: cached };
  }
  const opts = proxyOptionsOf(ctx.repo.options);
  if (opts.offline) throw notFound(`${path} is not cached and ${ctx.repo.name} is offline`);
  let lastModified: string | undefined;
  const result = await ctx.services.content.get({
    repo: ctx.repo,
    path,
    fetch: async () => {
      const res = await ctx.services.upstream.download(ctx.repo, opts, encodePath(segments));
      lastModified = httpTime(res.headers.get('last-modified'));
      return res;
    },
    checkHead: (head, res) => looksLike(head, baseName(path), res.headers.get('content-type')),
    plan: (staged) => ({
      files: [{ path, filename: baseName(path), blob: staged, meta: { upstreamUrl: new URL(encodePath(segments), opts.upstream).toString(), ...(lastModified ? { upstreamLastModified: lastModified } : {}) } }],
      scopes: [],
    }),
    existing: () => ctx.store.getFileByPath(ctx.repo.id, path),
    negativeTtlMs: opts.negativeTtl * 1000,
  });
  if (cooldown) {
    const young = result.kind === 'stored' ? tooYoung(cooldown, storedAge(result.file)) : tooYoung(cooldown, lastModified ?? null);
    if (young) {
      // The download goes on into the cache; this client gets none of it.
      if (result.kind === 'streaming') result.stream.destroy();
      throw tooYoungError(path, cooldown);
    }
  }
  return result;
}

/**
 * A listing is an HTML page or a JSON document: anything else (a file where a directory was
 * asked for, an error in another type) counts as a failure and the last good copy is served.
 */
function assertListing(body: Uint8Array, res: Response): void {
  const type = (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'text/html' || type === 'application/xhtml+xml') return;
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      JSON.parse(Buffer.from(body).toString('utf8'));
      return;
    } catch {
      throw new UpstreamUnavailable(`upstream sent a JSON listing that does not parse (${res.url})`);
    }
  }
  throw new UpstreamUnavailable(`upstream sent ${type || 'no content type'} where a directory listing was expected (${res.url})`);
}

/** The upstream's own listing of a directory, cached like any upstream metadata. */
async function proxyListing(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext, segments: string[]) {
  const opts = proxyOptionsOf(ctx.repo.options);
  const target = segments.length ? `${encodePath(segments)}/` : '';
  const r = await ctx.services.metadata.get(ctx.repo, `listing:${target}`, opts, (prev) =>
    conditionalFetch(() => ctx.services.upstream.fetch(ctx.repo, opts, target, { accept: req.headers.accept ?? 'text/html', etag: prev?.etag, lastModified: prev?.lastModified, maxBytes: opts.maxMetadataBytes }), `/${target}`, assertListing));
  if (!r.entry) throw notFound(`no directory /${target} upstream of ${ctx.repo.name}`);
  markStale(reply, r.stale);
  reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
  reply.header('cache-control', 'max-age=0, must-revalidate');
  return reply.type(r.entry.contentType ?? 'text/html; charset=utf-8').send(Buffer.from(r.entry.body!));
}

/** GET on a proxy or group repository. */
export async function remoteGet(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext, path: RequestPath, depth = 0, outer: readonly Cooldown[] = []): Promise<unknown> {
  const stored = path.segments.join('/');
  if (ctx.repo.kind === 'proxy') {
    if (path.directory) return proxyListing(req, reply, ctx, path.segments);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('content-security-policy', 'sandbox');
    return sendProxied(req, reply, ctx.repo, ctx.blobs, await proxyFile(ctx, stored, path.segments, outer), baseName(stored));
  }
  const own = cooldownOf(ctx.repo);
  const cooldowns = own ? [...outer, own] : outer;
  // A group: the first member that has the path and that the client may read answers.
  const answerAs = groupAnswerRepo(ctx.repo, ctx.principal);
  let young: unknown = null;
  for (const member of ctx.services.members(ctx.repo, ctx.principal)) {
    const mctx: RouteContext = { ...ctx, repo: member };
    if (member.kind === 'hosted') {
      if (path.directory) {
        const dir = stored ? `${stored}/` : '';
        const row = await ctx.services.getIndex(member, listingKey(dir, /json/.test(req.headers.accept ?? '') ? 'json' : 'html'));
        if (row) return sendIndex(req, reply, answerAs, row, { vary: ['Accept'] });
        continue;
      }
      const file = await ctx.store.getFileByPath(member.id, stored);
      if (file) {
        reply.header('x-content-type-options', 'nosniff');
        reply.header('content-security-policy', 'sandbox');
        return sendFile(req, reply, answerAs, ctx.blobs, file, { immutable: member.options.allowOverwrite !== true });
      }
      continue;
    }
    if (member.kind === 'group' && depth >= MAX_DEPTH) continue;
    try {
      if (member.kind === 'proxy' && !path.directory) {
        const result = await proxyFile(mctx, stored, path.segments, cooldowns);
        reply.header('x-content-type-options', 'nosniff');
        reply.header('content-security-policy', 'sandbox');
        return sendProxied(req, reply, answerAs, ctx.blobs, result, baseName(stored));
      }
      return await remoteGet(req, reply, mctx, path, depth + 1, cooldowns);
    } catch (err) {
      if ((err as { status?: number }).status !== 404) throw err;
      // A later member has the same young file, or none: the client learns why it got none.
      young ??= (err as { code?: string }).code === 'TOO_YOUNG' ? err : null;
    }
  }
  throw young ?? notFound(`no ${path.directory ? 'directory' : 'file'} /${stored} in ${ctx.repo.name}`);
}
