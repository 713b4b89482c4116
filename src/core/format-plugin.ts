// The contract a repository format implements. A format is pure parsing and index building
// plus its protocol routes; hosted storage, publishing, auth and serving are shared.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../db/store.ts';
import type { BlobStore, StagedBlob } from '../storage/blob-store.ts';
import type { Principal } from './auth/principal.ts';
import type { WharfError } from './errors.ts';
import type { FileRow, IndexRow, PackageRow, Permission, RepoKind, Repository } from './model.ts';
import type { Logger } from './logger.ts';
import type { ContentCache } from './proxy/content-cache.ts';
import type { MetadataCache } from './proxy/metadata-cache.ts';
import type { Upstreams } from './proxy/upstream.ts';
import type { RepoKeys } from './repo-keys.ts';
import type { RepoState } from './repo-state.ts';
import type { AsOfIndexes } from './time-travel.ts';

/** What a format's route handlers and index builders can use. */
export interface RepoContext {
  repo: Repository;
  store: Store;
  blobs: BlobStore;
  log: Logger;
  services: CoreServices;
  /**
   * State of this repository that outlives a request (incremental index state, memos), owned
   * by the core and kept in step with the database by the change feed. A format keeps none of
   * its own.
   */
  state: RepoState;
  /**
   * Below `/<repo>/@<ref>/` (time travel, core/time-travel.ts): the instant answered for (ISO);
   * the store and documents answer as of it. Handlers reading req.url skip the `@<ref>/` segment.
   */
  asOf?: string;
}

/** An upload counted as coming to its repository (PackageService.arrive). */
export interface Arrival {
  /** The repository it is counted in (0: not counted). */
  readonly repoId: number;
  /** Its transaction is over: it is no longer coming. */
  arrived(): void;
  /** It waited for a publish, which carried what the burst deferred. */
  published(): void;
  /** It is answered or refused; if it was the last coming and published nothing, the burst's deferred scopes are published first. */
  leave(): Promise<void>;
}

/** Shared behaviour the core offers every format (implemented in core/). */
export interface CoreServices {
  /**
   * `arrival`: the upload was counted as coming when its request arrived (`arrive`), so uploads
   * committing while its body is received treat it as part of their burst.
   */
  ingest(repo: Repository, upload: UploadInput, arrival?: Arrival): Promise<IngestResult>;
  /** Count an upload to `repo` (or its group's upload target) as coming; await `leave()` once it is answered. */
  arrive(repo: Repository): Arrival;
  /**
   * Publish scopes; deferred scopes (FormatPlugin.deferredScopes) a moment later, unless `now`
   * (a reader wants them current: a pending deferred publish of them is done at once).
   */
  publish(repo: Repository, scopes: string[], opts?: { now?: boolean }): Promise<void>;
  /** `reason` goes into the audit entry's detail (e.g. `retention` for a `clean`). */
  /**
   * Delete a file (with its companions) or a version, and publish. With `publish: false` the
   * scopes are only marked dirty and returned, for one publish after many deletions.
   */
  deleteFile(repo: Repository, path: string, opts?: DeleteOptions): Promise<string[]>;
  deleteVersion(repo: Repository, packageName: string, version: string, opts?: DeleteOptions): Promise<string[]>;
  deletePackage(repo: Repository, packageName: string): Promise<void>;
  /** Signing keys of a repository, for formats that sign their indexes. */
  keys: RepoKeys;
  /** Another repository by name. */
  repo(name: string): Repository | undefined;
  /** A group's members in order, only those `principal` may read: what a group may serve it. */
  members(group: Repository, principal: Principal): Repository[];
  /**
   * Every member of a group, readable by the asker or not: for guards that must not depend
   * on who asks (the dependency-confusion guard), never for serving.
   */
  allMembers(group: Repository): Repository[];
  /** Proxy repositories: upstream metadata with TTL, stale fallback and single flight. */
  metadata: MetadataCache;
  /** Proxy repositories: upstream content fetched once, verified and kept. */
  content: ContentCache;
  /** Proxy repositories: requests to the upstream, with timeouts and a breaker. */
  upstream: Upstreams;
  /** A published index document (from memory when possible). */
  getIndex(repo: Repository, key: string): Promise<IndexRow | undefined>;
  /** Another repository's state (`RepoContext.state`): for a group working in its members' names. */
  stateOf(repo: Repository): RepoState;
}

export interface RouteContext extends RepoContext {
  params: Record<string, string | undefined>;
  principal: Principal;
}

export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface FormatRoute {
  /** GET routes answer HEAD too. */
  method: RouteMethod;
  /** Relative to the repository root, in find-my-way syntax: `/simple/:project/`, `/packages/*`. */
  path: string;
  /** Permission checked before the handler runs. */
  access: Permission;
  handler(req: FastifyRequest, reply: FastifyReply, ctx: RouteContext): Promise<unknown>;
}

export interface UploadInput {
  staged: StagedBlob;
  /** The file name the client gave; formats decide how far to trust it. */
  filename: string;
  /** Protocol parameters (form fields, query): name → values. */
  fields: Record<string, string[]>;
  /** Who uploads it (a user name), recorded with the files; absent for content a proxy fetched. */
  uploader?: string;
  /** When it was first uploaded elsewhere (ISO): a migration keeps the original time (administrators only). */
  uploadedAt?: string;
}

export interface PlannedFile {
  path: string;
  filename: string;
  blob: StagedBlob;
  meta: Record<string, unknown>;
  /**
   * Whether a different file stored at `path` may be replaced even where overwriting is off
   * (e.g. a server-made signature giving way to the packager's). Decided in the transaction
   * that writes, so it holds against concurrent uploads: await nothing but the database.
   */
  replaces?(stored: FileRow): boolean | Promise<boolean>;
  /**
   * Whether a different file stored at `path` stands instead of this one (e.g. a signature the
   * server made for an identical package a concurrent upload stored first). Decided in the
   * transaction that writes: await nothing but the database.
   */
  keepsStored?(stored: FileRow): boolean | Promise<boolean>;
  /**
   * When the same bytes are stored at `path` already: the meta to store instead (e.g. APT's
   * suites, united), or undefined to leave it. Called inside the transaction that decides,
   * so concurrent uploads of one file each add their part; it may note other changes there
   * (awaiting nothing but the database).
   */
  mergeMeta?(stored: FileRow): Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>;
}

/** What an accepted upload adds: a format's ingest returns it, the core records it. */
export interface DeleteOptions {
  /** Recorded in the audit trail (e.g. "retention"). */
  reason?: string;
  /** false: leave the publish to the caller (default true). */
  publish?: boolean;
}

export interface IngestPlan {
  /** The files' upload time when not now: set by the core from UploadInput.uploadedAt, never by a format. */
  uploadedAt?: string;
  /** Absent for formats without packages (plain files). */
  package?: {
    name: string; displayName: string; version: string; versionMeta: Record<string, unknown>;
    /** Replaces the package's own meta when given (e.g. the newest version's `description`). */
    packageMeta?: Record<string, unknown>;
    /** The package's one-line summary, given when this version is its newest (lists and search show it). */
    summary?: string;
    /**
     * The format's version order. Given, `packageMeta` and `summary` are applied only if this
     * version is the newest stored, judged in the transaction that writes: concurrent uploads
     * (or a batch's earlier files) of other versions count.
     */
    compareVersions?(a: string, b: string): number;
  };
  files: PlannedFile[];
  /** Index scopes to publish again. */
  scopes: string[];
  /**
   * A check that depends on rows other than the plan's own paths (e.g. a file where a
   * directory is), made again in the transaction that writes: the error returned refuses the
   * upload. A check made only before that transaction lets a concurrent upload slip past it.
   * Awaits nothing but the database.
   */
  conflictInTransaction?(): WharfError | undefined | Promise<WharfError | undefined>;
  /** The scopes to publish, judged in the transaction that writes (awaiting only the database); replaces `scopes` there. */
  scopesInTransaction?(): string[] | Promise<string[]>;
}

export interface IngestResult {
  /** `created` when anything new was stored; `exists` when every file was already there, byte for byte. */
  status: 'created' | 'exists';
  files: FileRow[];
}

/** One generated index document, e.g. a simple page or an APT Packages file. */
export interface IndexDocument {
  key: string;
  contentType: string;
  body: string | Uint8Array;
}

/**
 * One file of a repository's static tree (core/static-tree.ts): what Wharf answers at one URL
 * below the repository, written where a web server can send it without asking Wharf.
 */
export interface StaticEntry {
  /** The URL path below the repository root, decoded; ends in '/' for a page chosen by content negotiation. */
  path: string;
  /** For a path ending in '/': the representation (`html`, `json`) the web server picks by the request's Accept header. */
  variant?: string;
  /** The bytes: a published index document (decompressed when `gunzip`), or a stored file's blob. */
  source: { index: string; gunzip?: boolean } | { blob: string; size: number };
  /**
   * Entries are written in increasing phase: a document that names others (a Release, a .db,
   * a root page) comes after what it names. Blobs default to 0, documents to 1.
   */
  phase?: number;
}

/** Where and how a viewer reaches a repository, for its set-up instructions. */
export interface SetupSite {
  /** The server's URL as this viewer reached it, ending in `/` (its API is below `-/`). */
  server: string;
  /** The repository's URL as this viewer reached the server, ending in `/`. */
  url: string;
  /** Reading needs credentials (a private repository): snippets carry placeholders. */
  private: boolean;
  /** Uploads to this URL are taken (hosted, or a group with an uploadTo member). */
  uploads: boolean;
}

/** One step of a set-up: what to do, and what to type or write, verbatim. */
export interface SetupStep {
  /** Plain text (never markup). */
  text: string;
  /** A command or file content to copy, exactly as it is to be used. */
  code?: string;
  /** The file `code` goes into, e.g. `~/.pypirc`. */
  file?: string;
  /** `token`: the step says where YOUR_TOKEN comes from (left out where a real token is filled in). */
  about?: 'token';
}

/** A client's set-up for one repository: pip, twine, apt, pacman, curl. */
export interface SetupSection {
  title: string;
  steps: SetupStep[];
}

/** Where a viewer reaches a repository, for a package page's URLs and install commands. */
export interface PackageSite {
  /** The server's URL as this viewer reached it, ending in `/`. */
  server: string;
  /** The URL clients install from (the repository's, or the group's the viewer came through), ending in `/`. */
  url: string;
  /** The name clients know that repository by (pacman's section, a `.pypirc` entry). */
  name: string;
  /** The URL the package's files are downloaded from (the repository holding them), ending in `/`. */
  filesUrl: string;
  /** Reading needs credentials: install commands carry placeholders. */
  private: boolean;
}

/** A short status shown beside a version or a file; `tone` says how it reads. */
export interface PackageBadge {
  text: string;
  tone?: 'ok' | 'warn' | 'bad';
}

/** One file of a version on a package page. */
export interface PackageViewFile {
  filename: string;
  /** Absolute download URL. */
  url: string;
  size: number;
  sha256: string;
  uploadedAt: string;
  /** The principal that uploaded it; null when unknown (proxied content). */
  uploadedBy: string | null;
  badges: PackageBadge[];
  /** A line of plain text under the file (e.g. why it was yanked). */
  note?: string;
}

/** One version on a package page: everything plain data, rendered by the pages. */
export interface PackageViewVersion {
  version: string;
  badges: PackageBadge[];
  /** Label → value (a list renders as a list), e.g. `['Requires-Python', '>=3.8']`. */
  fields: [label: string, value: string | string[]][];
  files: PackageViewFile[];
  /** How to install exactly this version, each a sentence and the command. */
  install: { text: string; code: string }[];
}

/** A package as its format shows it to people. */
export interface PackageView {
  /** Newest first, in the format's own version order. */
  versions: PackageViewVersion[];
  /** The newest version's one-line summary. */
  summary: string | null;
  /** Links the package names (home page, source): shown only when http(s). */
  links: { label: string; url: string }[];
  /** The long description: Markdown is rendered safely, anything else shown as text. */
  description: { kind: 'markdown' | 'text'; text: string } | null;
}

export interface FormatPlugin {
  format: string;
  kinds: readonly RepoKind[];
  /** Validate and fill in defaults for a repository's options; throws badRequest. */
  normalizeOptions(options: Record<string, unknown>, kind: RepoKind): Record<string, unknown>;
  /** Whether its groups may have groups as members (default true). */
  nestedGroups?: boolean;
  /** Whether its proxies and groups honour a cooldown (`minAge`, src/core/cooldown.ts): one set where they do not is refused. */
  cooldown?: boolean;
  routes: FormatRoute[];
  /** Parse and validate an upload (already staged and hashed); throws a WharfError to refuse. */
  ingest(ctx: RepoContext, upload: UploadInput): Promise<IngestPlan>;
  /** Build every document of one index scope from the database. An empty list unpublishes it. */
  buildScope(ctx: RepoContext, scope: string): Promise<IndexDocument[]>;
  /**
   * Scopes that change when a package's files change. Asked inside the transaction that
   * deletes: await nothing but the database.
   */
  scopesForPackage(ctx: RepoContext, packageName: string): string[] | Promise<string[]>;
  /** Scopes that change when a package appears or disappears (e.g. the PyPI root page). */
  scopesForPackageSet?: string[];
  /** Scopes whose cost grows with the repository: published shortly after a change, once per burst. */
  deferredScopes?: readonly string[] | ((scope: string) => boolean);
  /**
   * For `wharf fsck`: whether a published document says what a fresh build of it says, when
   * every build changes some bytes (a date, a signature). Absent: the bytes must be equal.
   */
  sameDocument?(key: string, published: Uint8Array, fresh: Uint8Array): boolean;
  /** Files that go with a file when it is deleted (e.g. a wheel's `.metadata`). */
  companionPaths?(file: FileRow): string[];
  /**
   * A proxy's stored file that is one of its cached index documents (e.g. APT's by-hash
   * `Packages`), not upstream content: never evicted by maxCacheBytes or evictUnusedAfter.
   */
  cachedIndexDocument?(path: string): boolean;
  /**
   * The static tree of a public hosted repository: every URL a web server may answer in
   * Wharf's stead, exactly as Wharf would, given the keys of its published documents. A URL
   * left out is answered by Wharf (the web server falls back to it). Absent: none.
   */
  staticEntries?(ctx: RepoContext, indexKeys: string[]): Promise<StaticEntry[]>;
  /**
   * The part of the static tree some scopes' documents need (those documents and the files
   * they name), written right after they are published so the answer to an upload finds them
   * there; the full sync (staticEntries) follows a moment later and removes what went. Absent:
   * the full sync runs at once after every publish, its cost growing with the repository.
   */
  staticEntriesOf?(ctx: RepoContext, scopes: string[]): Promise<StaticEntry[]>;
  /**
   * Time travel (core/time-travel.ts): the documents of a hosted repository at a past instant,
   * built by the format's own builders on the file set of that instant. Absent: `@<instant>`
   * URLs serve files only.
   */
  asOf?: AsOfIndexes;
  /** Called once after a repository of this format is created (e.g. to publish empty indexes). */
  onCreate?(ctx: RepoContext): Promise<void>;
  /**
   * Scopes whose documents carry a signature. The core marks them dirty in the transaction
   * that changes the repository's keys, then publishes them (after `onKeysChanged`).
   */
  signedScopes?(ctx: RepoContext): string[] | Promise<string[]>;
  /** Called after the repository's signing keys change, before the signed scopes are republished (e.g. to drop cached signed documents). */
  onKeysChanged?(ctx: RepoContext): Promise<void>;
  /** An action the server runs on its own, every so often (e.g. a configured mirror sync). */
  schedule?(repo: Repository): { action: string; args: Record<string, unknown>; everyMinutes: number } | null;
  /** Format-specific management actions exposed through the API (e.g. PyPI's yank). */
  actions?: Record<string, (ctx: RepoContext, args: Record<string, unknown>, progress?: (event: object) => void) => Promise<unknown>>;
  /** The permission an action needs when it is not `write` (e.g. a listing readers may run). */
  actionAccess?: Record<string, Permission>;
  /** How clients use this repository (shown on its page for browsers): plain text, no markup. */
  setupGuide?(ctx: RepoContext, site: SetupSite): Promise<SetupSection[]> | SetupSection[];
  /** The stored name a name typed by a person refers to (PyPI normalizes); absent: the name as it is. */
  packageName?(name: string): string;
  /**
   * A package as a page shows it, from its versions and files (indexed reads only). Absent
   * for formats without packages (plain files).
   */
  packageView?(ctx: RepoContext, pkg: PackageRow, site: PackageSite): PackageView | Promise<PackageView>;
}
