// A batch of uploads to one repository (the batch API, `wharf import`): each file parsed and
// checked exactly as a single upload, then recorded in chunks of many files (one pin
// transaction, blobs placed together, one transaction for the rows) and published once at the
// end, and a moment after each chunk meanwhile (as a burst of single uploads is).
import type { StagedBlob } from '../storage/blob-store.ts';
import { WharfError } from './errors.ts';
import type { Arrival, IngestPlan, IngestResult, UploadInput } from './format-plugin.ts';
import type { Repository } from './model.ts';
import type { PackageService } from './packages.ts';

export type BatchResult = { filename: string } & ({ result: IngestResult } | { error: WharfError });

export interface BatchLimits {
  /** Files recorded per transaction. */
  chunkFiles: number;
  /** Bytes recorded per transaction (small files are held in memory until then). */
  chunkBytes: number;
  /**
   * While a batch goes on, what it recorded is published (as a burst: a moment later) once
   * this long has passed since it last was; at its end, at once. Fewer builds than one per chunk.
   */
  publishEveryMs: number;
}

export const BATCH_LIMITS: BatchLimits = { chunkFiles: 200, chunkBytes: 32 * 1024 * 1024, publishEveryMs: 2000 };

/** A place held in the answer (one error object for all: its stack costs). */
const NOT_RECORDED: BatchResult = { filename: '', error: new WharfError('BAD_REQUEST', 'not recorded') };

interface Pending {
  index: number;
  upload: UploadInput;
  plan: IngestPlan;
}

export class BatchIngest {
  private readonly service: PackageService;
  private readonly repo: Repository;
  private readonly limits: BatchLimits;
  private readonly arrival: Arrival;
  private readonly results: BatchResult[] = [];
  private pending: Pending[] = [];
  private pendingBytes = 0;
  /** Scopes recorded and not yet published by this batch. */
  private scopes = new Set<string>();
  private lastPublished = Date.now();

  constructor(service: PackageService, repo: Repository, limits: BatchLimits = BATCH_LIMITS) {
    this.service = service;
    this.repo = repo;
    this.limits = limits;
    // Counted as coming for the whole batch: single uploads committing meanwhile are a burst with it.
    this.arrival = service.arrive(repo);
  }

  /** An entry refused before it was staged (no name, too large ...). */
  refuse(filename: string, error: WharfError): void {
    this.results.push({ filename, error });
  }

  /** Parse and check one staged file; it is recorded with its chunk. */
  async add(upload: UploadInput): Promise<void> {
    const index = this.results.length;
    // Its place in the answer, filled once it is recorded or refused.
    this.results.push(NOT_RECORDED);
    let plan: IngestPlan;
    try {
      plan = await this.service.plan(this.repo, upload);
      // A plan judged while an earlier file of its package waits in the chunk may depend on
      // that file's rows: judged again once the chunk is recorded. Not needed where the core
      // judges which version is newest as it writes (`compareVersions`), the formats' only such need.
      if (plan.package && !plan.package.compareVersions && this.pending.some((p) => p.plan.package?.name === plan.package!.name)) {
        await this.discardPlan(plan, upload.staged);
        await this.flush();
        plan = await this.service.plan(this.repo, upload);
      }
    } catch (err) {
      if (!(err instanceof WharfError) || !this.pending.length) return this.refused(index, upload, err);
      // Perhaps refused for want of a file still waiting in the chunk (a signature before its
      // package is recorded): asked again once the chunk is recorded, as a single upload would be.
      try {
        await this.flush();
        plan = await this.service.plan(this.repo, upload);
      } catch (again) {
        return this.refused(index, upload, again);
      }
    }
    this.pending.push({ index, upload, plan });
    this.pendingBytes += upload.staged.size;
    if (this.pending.length >= this.limits.chunkFiles || this.pendingBytes >= this.limits.chunkBytes) await this.flush();
  }

  private async refused(index: number, upload: UploadInput, err: unknown): Promise<void> {
    await this.service.discard(upload.staged);
    if (!(err instanceof WharfError)) throw err;
    this.results[index] = { filename: upload.filename, error: err };
  }

  private async discardPlan(plan: IngestPlan, staged: StagedBlob): Promise<void> {
    for (const f of plan.files) if (f.blob !== staged) await this.service.discard(f.blob);
  }

  /** Record the files waiting: durable when it returns, published a moment later. */
  async flush(): Promise<void> {
    const chunk = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (!chunk.length) return;
    try {
      const outcomes = await this.service.recordMany(this.repo, chunk.map((p) => ({ plan: p.plan, uploader: p.upload.uploader ?? null })), this.scopes);
      for (const [k, p] of chunk.entries()) {
        const o = outcomes[k];
        this.results[p.index] = o instanceof WharfError ? { filename: p.upload.filename, error: o } : { filename: p.upload.filename, result: o };
      }
      if (Date.now() - this.lastPublished >= this.limits.publishEveryMs) {
        const scopes = [...this.scopes];
        this.scopes = new Set();
        this.lastPublished = Date.now();
        if (scopes.length) await this.service.publishScopes(this.repo, scopes, { burst: true });
      }
    } finally {
      for (const p of chunk) {
        for (const f of p.plan.files) await this.service.discard(f.blob);
        await this.service.discard(p.upload.staged);
      }
    }
  }

  /**
   * Record what waits and publish: every file answered as accepted is then durable and in the
   * published indexes. Called also when the body broke off: what was received whole stays.
   */
  async finish(): Promise<BatchResult[]> {
    try {
      await this.flush();
    } finally {
      this.arrival.arrived();
      try {
        // Not a burst: this waits for the build, which also carries the chunks' deferred scopes.
        await this.service.publishScopes(this.repo, [...this.scopes]);
        this.arrival.published();
      } finally {
        await this.arrival.leave();
      }
    }
    return this.results;
  }
}
