// The shapes the management API answers with.

export interface RepoStats {
  packages: number;
  versions: number;
  files: number;
  bytes: number;
  lastUpdate: string | null;
}

export interface RepoInfo {
  name: string;
  format: string;
  kind: string;
  public: boolean;
  options: Record<string, unknown>;
  createdAt: string;
  url: string;
  stats: RepoStats;
}

export interface RepoStatus extends RepoStats {
  name: string;
  format: string;
  kind: string;
  public: boolean;
}

export interface FileInfo {
  path: string;
  filename: string;
  size: number;
  sha256: string;
  createdAt: string;
  meta: Record<string, unknown>;
}

export interface PackageSummary {
  name: string;
  displayName: string;
  updatedAt: string;
  versions: string[];
  description?: string;
}

export interface PackageDetail {
  name: string;
  displayName: string;
  updatedAt: string;
  versions: { version: string; createdAt: string; meta: Record<string, unknown>; files: FileInfo[] }[];
}

export interface UploadResult {
  status: 'created' | 'exists';
  files: FileInfo[];
}

/** One entry's outcome in a batch upload, in the order sent. */
export type BatchEntryResult =
  | { filename: string; status: 'created' | 'exists'; files: FileInfo[] }
  | { filename: string; error: { code: string; status: number; message: string } };

export interface BatchUploadResult {
  results: BatchEntryResult[];
  /** The body broke off (not a tar stream past some entry): entries without a result were not taken. */
  error?: { code: string; status: number; message: string };
}

export interface UserInfo {
  name: string;
  admin: boolean;
  /** False for a user created without a password (only a token logs in as them). */
  hasPassword?: boolean;
  createdAt: string;
  grants: { repo: string; permission: string }[];
}

export interface TokenInfo {
  id: string;
  name: string;
  user?: string;
  repos: string[];
  permission: string;
  expiresAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface TokenCreated extends TokenInfo {
  /** The secret: shown in this answer only. */
  token: string;
}

/** One entry of the audit trail (docs/security.md). */
export interface AuditEntry {
  id: number;
  at: string;
  /** A user name, or `anonymous`, `cli` or `system`. */
  actor: string;
  tokenId: string | null;
  tokenName: string | null;
  address: string | null;
  repo: string | null;
  action: string;
  target: string | null;
  detail: Record<string, unknown>;
}

/** A named snapshot of a hosted repository (time travel). */
export interface SnapshotInfo {
  name: string;
  /** The instant it lists (ISO, UTC). */
  at: string;
  createdAt: string;
  createdBy: string | null;
  /** Where it is served, below the server: `/<repo>/@<name>/`. */
  url: string;
}

export interface AuditQuery {
  repo?: string;
  /** ISO time, or a duration before now: 7d, 12h, 30m. */
  since?: string;
  user?: string;
  /** Exact, or a prefix ending in `*`. */
  action?: string;
  /** At most 1000 per page (default 100). */
  limit?: number;
  /** The previous page's `next`. */
  before?: number;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Pass as `before` for the next (older) page; null when this was the last. */
  next: number | null;
}
