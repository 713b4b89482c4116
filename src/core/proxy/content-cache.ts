// Upstream content (packages, files) for proxy repositories: fetched once, verified, stored
// for good. The first client gets the bytes as they arrive; the response ends only after the
// digest checked out (the upstream index's, or one the upstream announces in a header), so a
// corrupted or broken-off download fails instead of completing: before the headers went out
// the client gets a 502, after them its connection is cut. It does not wait for the store
// (fsync, rename, database) as well. Nothing partial or unverified is ever stored.
// Concurrent requests for the same file wait for that one fetch and are then served from the store.
import type { Readable } from 'node:stream';
import type { BlobStore, StagedBlob } from '../../storage/blob-store.ts';
import { notFound, WharfError } from '../errors.ts';
import type { IngestPlan, IngestResult } from '../format-plugin.ts';
import type { FileRow, Repository } from '../model.ts';
import { HEAD_BYTES } from './looks-like.ts';
import { StagedFileTail } from './staged-tail.ts';
import type { Download } from './download.ts';
import { announcedSha256, UpstreamUnavailable } from './upstream.ts';

export interface ContentFetchSpec {
  repo: Repository;
  /** The path the file is stored and served under. */
  path: string;
  fetch(): Promise<Download>;
  /** Digest the upstream's index promises; a mismatch is never stored. */
  expectedSha256?: string | null;
  /**
   * A check of the content's first bytes (up to HEAD_BYTES; e.g. an HTML error page where a
   * package was expected): made with the digest's, so the first client need not wait for the
   * staged file to be written.
   */
  checkHead?(head: Buffer, res: Download): void;
  /** Further checks on the whole staged file; the first client's last byte then waits for the file. */
  validate?(staged: StagedBlob, res: Download): Promise<void>;
  /** How to record the verified file. */
  plan(staged: StagedBlob): IngestPlan;
  /** The file if it is stored already (checked again here, after any waiting the caller did). */
  existing?(): FileRow | undefined | Promise<FileRow | undefined>;
  /** Remember an upstream "not found" this long, so repeated misses do not reach the upstream. */
  negativeTtlMs?: number;
}

export type ContentResult =
  | { kind: 'stored'; file: FileRow }
  | { kind: 'streaming'; stream: Readable; contentLength: number | null; contentType: string | null; done: Promise<FileRow> };

export class ContentCache {
  private readonly blobs: BlobStore;
  private readonly record: (repo: Repository, plan: IngestPlan) => Promise<IngestResult>;
  private readonly inflight = new Map<string, Promise<FileRow>>();
  private readonly misses = new Map<string, number>();
  /** Told when verified content could not be stored (no client sees that error). */
  log: { error(obj: object, msg: string): void } | null = null;
  /** Upstream fetches started, for tests and metrics. */
  fetches = 0;
  /** Told of each fetch from an upstream (a miss) and of each file stored from one. */
  hooks: { fetched?(repo: Repository): void; stored?(repo: Repository, file: FileRow): void } = {};

  constructor(blobs: BlobStore, record: (repo: Repository, plan: IngestPlan) => Promise<IngestResult>) {
    this.blobs = blobs;
    this.record = record;
  }

  /** Resolves once every fetch under way has been stored or refused (the first client may be done before). */
  async settled(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight.values()]);
  }

  async get(spec: ContentFetchSpec): Promise<ContentResult> {
    const key = `${spec.repo.id}\0${spec.path}`;
    const pending = this.inflight.get(key);
    if (pending) return { kind: 'stored', file: await pending };
    const stored = await spec.existing?.();
    if (stored) return { kind: 'stored', file: stored };
    // A fetch begun while that read ran is joined: no await from this look to `inflight.set`.
    const begun = this.inflight.get(key);
    if (begun) return { kind: 'stored', file: await begun };
    const missedAt = this.misses.get(key);
    if (missedAt !== undefined && Date.now() - missedAt < (spec.negativeTtlMs ?? 0)) throw notFound(`upstream has no ${spec.path}`);

    let resolveDone!: (f: FileRow) => void;
    let rejectDone!: (e: unknown) => void;
    const done = new Promise<FileRow>((res, rej) => {
      resolveDone = res;
      rejectDone = rej;
    });
    done.catch(() => {}); // waiters see the rejection; an unawaited one is not an error
    this.inflight.set(key, done);
    done.finally(() => this.inflight.delete(key)).catch(() => {});

    let res: Download;
    try {
      this.fetches++;
      this.hooks.fetched?.(spec.repo);
      res = await spec.fetch();
      if (res.status === 404 || res.status === 410) {
        if (this.misses.size > 100_000) this.misses.clear();
        this.misses.set(key, Date.now());
        throw notFound(`upstream has no ${spec.path}`);
      }
      if (!res.ok || !res.body) throw new UpstreamUnavailable(`upstream answered ${res.status} for ${spec.path}`);
    } catch (err) {
      rejectDone(err);
      throw err;
    }

    // The download is staged at the upstream's pace; the first client is handed each chunk as
    // it arrives, or reads the staged file when it lags, so a client that stops reading holds
    // up neither the download nor the others waiting for it (it is cut by the server's
    // sendIdleTimeout). Only sha256 is computed: it is what is verified, and nothing served
    // from cached upstream content lists an md5 (a proxy's pages come from its upstream's).
    const body = res.body;
    const toClient = new StagedFileTail();
    toClient.on('error', () => {});

    const verify = (sha256: string) => {
      if (spec.expectedSha256 && sha256 !== spec.expectedSha256.toLowerCase()) {
        throw new WharfError('UPSTREAM_FAILED', `upstream sent ${spec.path} with sha256 ${sha256}, its index says ${spec.expectedSha256}; not stored`);
      }
      const announced = announcedSha256(res.headers);
      if (announced && sha256 !== announced) {
        throw new WharfError('UPSTREAM_FAILED', `upstream sent ${spec.path} with sha256 ${sha256}, its own header says ${announced}; not stored`);
      }
    };
    let head = Buffer.alloc(0);

    void (async () => {
      let staged: StagedBlob | undefined;
      let verified = false;
      let refused: unknown = null;
      try {
        staged = await this.blobs.stage(body, {
          md5: false,
          onReceived: (bytes, chunk) => {
            if (head.length < HEAD_BYTES) head = Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.length)]);
            toClient.arrived(bytes, chunk);
          },
          onWritten: (path, bytes) => toClient.grow(path, bytes),
          // Verified as soon as the last byte is hashed, unless a check needs the whole file:
          // the first client's last byte does not wait for the disk.
          onHashed: spec.validate ? undefined : (sha256, size) => {
            try {
              verify(sha256);
              spec.checkHead?.(head, res);
              verified = true;
              toClient.complete(size);
            } catch (err) {
              // Refused before its file is even closed: a request after this client's error
              // must start a fetch of its own, not join this one.
              refused = err;
              rejectDone(err);
              toClient.destroy(err as Error);
            }
          },
        });
        if (refused) throw refused;
        if (!verified) {
          verify(staged.sha256);
          spec.checkHead?.(head, res);
          await spec.validate?.(staged, res);
          verified = true;
          toClient.complete(staged.size);
        }
        // Storing it (fsync, rename, the database) is for the next clients, who wait for
        // `done`; the client reads on from its open descriptor whatever the commit does to
        // the staged path.
        const result = await this.record(spec.repo, spec.plan(staged));
        staged = undefined;
        const file = result.files.find((f) => f.path === spec.path) ?? result.files[0];
        resolveDone(file);
        this.hooks.stored?.(spec.repo, file);
      } catch (err) {
        if (staged) await this.blobs.discard(staged);
        // Bytes verified are good even if they could not be stored: that client keeps them
        // (unless it still needed them from a staged file that could not be written).
        if (!verified) toClient.destroy(err as Error);
        else {
          if (!staged) toClient.fileFailed(err as Error);
          this.log?.error({ err, repo: spec.repo.name, path: spec.path }, 'verified upstream content could not be stored');
        }
        rejectDone(err);
      }
    })();

    const len = res.headers.get('content-length');
    return { kind: 'streaming', stream: toClient, contentLength: len === null ? null : Number(len), contentType: res.headers.get('content-type'), done };
  }
}
