// The generic repository model shared by every format.

export const REPO_FORMATS = ['pypi', 'apt', 'arch', 'files'] as const;
export type RepoFormat = (typeof REPO_FORMATS)[number];
export const REPO_KINDS = ['hosted', 'proxy', 'group'] as const;
export type RepoKind = (typeof REPO_KINDS)[number];
export const PERMISSIONS = ['read', 'write', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export interface Repository {
  id: number;
  name: string;
  format: string;
  kind: RepoKind;
  /** Anonymous clients may read. */
  publicRead: boolean;
  /** Format- and kind-specific options (e.g. `allowOverwrite`, a proxy's upstream). */
  options: Record<string, unknown>;
  createdAt: string;
}

export interface PackageRow {
  id: number;
  repoId: number;
  name: string;
  displayName: string;
  /** One line about the package (its newest version's), for lists and search; '' when none. */
  summary: string;
  meta: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface VersionRow {
  id: number;
  packageId: number;
  version: string;
  meta: Record<string, unknown>;
  createdAt: string;
}

export interface FileRow {
  id: number;
  repoId: number;
  versionId: number | null;
  /** Path below the repository root where the file is served, e.g. `packages/foo/foo-1.0.whl`. */
  path: string;
  filename: string;
  sha256: string;
  size: number;
  meta: Record<string, unknown>;
  createdAt: string;
  /** Who uploaded it (a user name); null for files a proxy fetched or rows older than the column. */
  uploadedBy: string | null;
}

export interface IndexRow {
  repoId: number;
  key: string;
  scope: string;
  contentType: string;
  body: Uint8Array;
  gzip: Uint8Array | null;
  etag: string;
  updatedAt: string;
}

export interface User {
  id: number;
  name: string;
  passwordHash: string;
  isAdmin: boolean;
  createdAt: string;
}

export interface Grant {
  userId: number;
  repoPattern: string;
  permission: Permission;
}

export interface TokenRow {
  id: string;
  userId: number;
  name: string;
  secretHash: string;
  repos: string[];
  permission: Permission;
  expiresAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
}

/** A browser session (the cookie holds the secret; only its hash is stored). Times in ms. */
export interface SessionRow {
  secretHash: string;
  userId: number;
  /** The synchronizer token every form of this session carries. */
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Repository names are URL path segments: lowercase, no `/`, and never the reserved `-`. */
export function isValidRepoName(name: string): boolean {
  return NAME_RE.test(name) && name !== '-';
}

export function permissionAtLeast(have: Permission, need: Permission): boolean {
  return PERMISSIONS.indexOf(have) >= PERMISSIONS.indexOf(need);
}

export function nowIso(): string {
  return new Date().toISOString();
}
