// GET /-/metrics in Prometheus' text format: what the server holds and how it is being used.
// Anonymous scrapers see public repositories only; administrators see all.
import type { FastifyInstance } from 'fastify';
import { isServerAdmin } from '../core/auth/principal.ts';
import type { Wharf } from '../core/wharf.ts';
import type { ResponseCache } from './http/response-cache.ts';

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function registerMetrics(app: FastifyInstance, wharf: Wharf, responseCache: ResponseCache): void {
  const byClass = new Map<string, number>();
  app.addHook('onResponse', (_req, reply, done) => {
    const cls = `${Math.floor(reply.statusCode / 100)}xx`;
    byClass.set(cls, (byClass.get(cls) ?? 0) + 1);
    done();
  });

  app.get('/-/metrics', { logLevel: 'warn' }, async (req, reply) => {
    const admin = isServerAdmin(req.principal);
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [Record<string, string>, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) {
        const l = Object.entries(labels).map(([k, v]) => `${k}="${esc(v)}"`).join(',');
        lines.push(`${name}${l ? `{${l}}` : ''} ${value}`);
      }
    };
    const repos = await Promise.all(wharf.listRepos().filter((r) => admin || r.publicRead).map(async (r) => ({ r, s: await wharf.store.repoStats(r.id) })));
    const lbl = (r: { name: string; format: string; kind: string }) => ({ repo: r.name, format: r.format, kind: r.kind });
    metric('wharf_repository_packages', 'gauge', 'Packages per repository.', repos.map(({ r, s }) => [lbl(r), s.packages]));
    metric('wharf_repository_files', 'gauge', 'Files per repository (for proxies: cached files).', repos.map(({ r, s }) => [lbl(r), s.files]));
    metric('wharf_repository_bytes', 'gauge', 'Bytes of the files per repository.', repos.map(({ r, s }) => [lbl(r), s.bytes]));
    metric('wharf_http_responses_total', 'counter', 'Responses by status class (through the router).', [...byClass].map(([c, n]) => [{ class: c }, n]));
    metric('wharf_response_cache_hits_total', 'counter', 'Anonymous reads answered from the response cache.', [[{}, responseCache.hits]]);
    metric('wharf_proxy_upstream_fetches_total', 'counter', 'Content fetches from proxy upstreams.', [[{}, wharf.contentCache.fetches]]);
    metric('process_resident_memory_bytes', 'gauge', 'Resident memory.', [[{}, process.memoryUsage.rss()]]);
    metric('process_uptime_seconds', 'gauge', 'Seconds since the process started.', [[{}, Math.round(process.uptime())]]);
    return reply.type('text/plain; version=0.0.4; charset=utf-8').header('cache-control', 'no-store').send(lines.join('\n') + '\n');
  });
}
