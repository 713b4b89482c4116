// Runs formats' scheduled actions (e.g. a proxy's configured mirror sync) in the server,
// one at a time per repository, and logs how each run went.
import type { FastifyBaseLogger } from 'fastify';
import type { Wharf } from '../core/wharf.ts';

export class Scheduler {
  private readonly wharf: Wharf;
  private readonly log: FastifyBaseLogger;
  private readonly lastRun = new Map<string, number>();
  private readonly running = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(wharf: Wharf, log: FastifyBaseLogger) {
    this.wharf = wharf;
    this.log = log;
  }

  start(tickMs = 30_000): void {
    this.timer = setInterval(() => void this.tick(), tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async tick(now = Date.now()): Promise<void> {
    for (const repo of this.wharf.listRepos()) {
      const job = this.wharf.pluginFor(repo).schedule?.(repo);
      if (!job || this.running.has(repo.name)) continue;
      const key = `${repo.name}:${job.action}`;
      const last = this.lastRun.get(key);
      if (last !== undefined && now - last < job.everyMinutes * 60_000) continue;
      this.lastRun.set(key, now);
      this.running.add(repo.name);
      const action = this.wharf.pluginFor(repo).actions?.[job.action];
      if (!action) continue;
      const started = Date.now();
      void action(this.wharf.contextFor(repo), job.args)
        .then((result) => this.log.info({ repo: repo.name, action: job.action, ms: Date.now() - started, result }, 'scheduled action done'))
        .catch((err: Error) => this.log.warn({ repo: repo.name, action: job.action, err: err.message }, 'scheduled action failed'))
        .finally(() => this.running.delete(repo.name));
    }
  }
}
