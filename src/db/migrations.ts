// Schema migrations, applied in order; PRAGMA user_version records how far a database is.
// The schema is the same for every format: package → version → file → blob, with
// format-specific data as JSON (`meta`), so adding a format never changes it.

export const migrations: string[] = [
  `
  CREATE TABLE repositories (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    format TEXT NOT NULL,
    kind TEXT NOT NULL,
    public_read INTEGER NOT NULL DEFAULT 1,
    options TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
  );
  CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE packages (
    id INTEGER PRIMARY KEY,
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (repo_id, name)
  );
  CREATE TABLE versions (
    id INTEGER PRIMARY KEY,
    package_id INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE,
    version TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    UNIQUE (package_id, version)
  );
  CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    version_id INTEGER REFERENCES versions(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    filename TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    size INTEGER NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    UNIQUE (repo_id, path)
  );
  CREATE INDEX files_by_version ON files(version_id);
  CREATE INDEX files_by_blob ON files(sha256);
  CREATE TABLE indexes (
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    scope TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body BLOB NOT NULL,
    gzip BLOB,
    etag TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (repo_id, key)
  );
  CREATE INDEX indexes_by_scope ON indexes(repo_id, scope);
  CREATE TABLE dirty_scopes (
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    PRIMARY KEY (repo_id, scope)
  );
  CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
  );
  CREATE TABLE grants (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    repo_pattern TEXT NOT NULL,
    permission TEXT NOT NULL,
    PRIMARY KEY (user_id, repo_pattern)
  );
  CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    repos TEXT NOT NULL,
    permission TEXT NOT NULL,
    expires_at TEXT,
    created_at TEXT NOT NULL,
    last_used_at TEXT
  );
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  `
  CREATE TABLE proxy_cache (
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    status INTEGER NOT NULL,
    content_type TEXT,
    body BLOB,
    etag TEXT,
    last_modified TEXT,
    fetched_at INTEGER NOT NULL,
    PRIMARY KEY (repo_id, key)
  );
  `,
  // Dirty marks count generations: a publish clears only the changes its build saw, so one
  // committed while the build ran stays dirty (and is rebuilt at the next start after a crash).
  `
  ALTER TABLE dirty_scopes ADD COLUMN gen INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE dirty_scopes ADD COLUMN published_gen INTEGER NOT NULL DEFAULT 0;
  `,
];
