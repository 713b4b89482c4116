// GET /-/metrics in Prometheus' text format: what the server holds and how it is being used.
// Anonymous scrapers see public repositories only; administrators see all.
import type { FastifyInstance } from 'fastify';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { isServerAdmin } from '../core/auth/principal.ts';
import type { Wharf } from '../core/wharf.ts';
import type { ResponseCache } from './http/response-cache.ts';

const GC_KINDS: [number, string][] = [
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
];

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function registerMetrics(app: FastifyInstance, wharf: Wharf, responseCache: ResponseCache): void {
  const byClass = new Map<string, number>();
  app.addHook('onResponse', (_req, reply, done) => {
    const cls = `${Math.floor(reply.statusCode / 100)}xx`;
    byClass.set(cls, (byClass.get(cls) ?? 0) + 1);
    done();
  });
  // Garbage collections by kind: a full collection (major) costs tens of ms of CPU, which
  // request timings alone do not show.
  const gcs = new Map<string, { runs: number; seconds: number }>(GC_KINDS.map(([, k]) => [k, { runs: 0, seconds: 0 }]));
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = GC_KINDS.find(([k]) => k === (e as { detail?: { kind?: number } }).detail?.kind)?.[1];
      const g = kind ? gcs.get(kind)! : undefined;
      if (!g) continue;
      g.runs++;
      g.seconds += e.duration / 1000;
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  app.addHook('onClose', (_app, done) => {
    gcObserver.disconnect();
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
    // Proxies' cached upstream content (counters per process, since it started).
    const proxies = repos.filter(({ r }) => r.kind === 'proxy').map(({ r, s }) => ({ r, s, c: wharf.cacheUsage.countersOf(r.id) }));
    metric('wharf_proxy_cache_bytes', 'gauge', 'Bytes a proxy repository holds (its cached files).', proxies.map(({ r, s }) => [lbl(r), s.bytes]));
    metric('wharf_proxy_cache_hits_total', 'counter', 'Cached upstream files served from the store.', proxies.map(({ r, c }) => [lbl(r), c.hits]));
    metric('wharf_proxy_cache_misses_total', 'counter', 'Files fetched from the upstream.', proxies.map(({ r, c }) => [lbl(r), c.misses]));
    metric('wharf_proxy_cache_evictions_total', 'counter', 'Cached files evicted (maxCacheBytes, evictUnusedAfter).', proxies.map(({ r, c }) => [lbl(r), c.evictions]));
    metric('wharf_proxy_cache_evicted_bytes_total', 'counter', 'Bytes of the cached files evicted.', proxies.map(({ r, c }) => [lbl(r), c.evictedBytes]));
    metric('wharf_http_responses_total', 'counter', 'Responses by status class (through the router).', [...byClass].map(([c, n]) => [{ class: c }, n]));
    metric('wharf_response_cache_hits_total', 'counter', 'Anonymous reads answered from the response cache.', [[{}, responseCache.hits]]);
    metric('wharf_proxy_upstream_fetches_total', 'counter', 'Content fetches from proxy upstreams.', [[{}, wharf.contentCache.fetches]]);
    metric('wharf_proxy_young_collections_total', 'counter', 'Young collections asked for after downloads from proxy upstreams (see docs/memory.md).', [[{}, wharf.upstreams.young.runs]]);
    metric('process_gc_total', 'counter', 'Garbage collections by kind (major: a full mark-compact).', [...gcs].map(([kind, g]) => [{ kind }, g.runs]));
    metric('process_gc_pause_seconds_total', 'counter', 'Main-thread time in garbage collections by kind.', [...gcs].map(([kind, g]) => [{ kind }, Number(g.seconds.toFixed(6))]));
    metric('process_resident_memory_bytes', 'gauge', 'Resident memory.', [[{}, process.memoryUsage.rss()]]);
    metric('process_uptime_seconds', 'gauge', 'Seconds since the process started.', [[{}, Math.round(process.uptime())]]);
    return reply.type('text/plain; version=0.0.4; charset=utf-8').header('cache-control', 'no-store').send(lines.join('\n') + '\n');
  });
}
