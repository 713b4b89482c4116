// Work that readers must see done after they asked: a call waits for a run that starts after
// the call, and calls that come while one runs share the next run (at most two runs wait).
export class Rerun {
  private readonly work: () => Promise<void>;
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(work: () => Promise<void>) {
    this.work = work;
  }

  run(): Promise<void> {
    if (!this.running) {
      const r: Promise<void> = this.work().finally(() => {
        if (this.running === r) this.running = null;
      });
      this.running = r;
      return r;
    }
    if (!this.queued) {
      const again = () => {
        this.queued = null;
        return this.run();
      };
      // Runs after `running` is cleared (its finally is attached first), whatever its outcome.
      this.queued = this.running.then(again, again);
    }
    return this.queued;
  }
}
