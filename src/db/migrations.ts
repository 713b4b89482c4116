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
  // The read model the pages use (issue 10): who uploaded each file, a package's one-line
  // summary, per-repository totals kept by triggers (a page never sums a repository's files),
  // packages by last change, and a full-text index of names and summaries. unicode61 splits on
  // punctuation, so Foo_Bar, foo-bar and foo.bar are the same tokens.
  `
  ALTER TABLE files ADD COLUMN uploaded_by TEXT;
  ALTER TABLE packages ADD COLUMN summary TEXT NOT NULL DEFAULT '';
  UPDATE packages SET summary = COALESCE((
    SELECT CASE
      WHEN json_extract(v.meta, '$.summary') IS NOT NULL THEN json_extract(v.meta, '$.summary')
      WHEN instr(json_extract(v.meta, '$.description'), char(10)) > 0 THEN substr(json_extract(v.meta, '$.description'), 1, instr(json_extract(v.meta, '$.description'), char(10)) - 1)
      ELSE json_extract(v.meta, '$.description') END
    FROM versions v WHERE v.package_id = packages.id ORDER BY v.id DESC LIMIT 1), '');
  CREATE INDEX packages_by_update ON packages(repo_id, updated_at);

  CREATE TABLE repo_stats (
    repo_id INTEGER PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,
    packages INTEGER NOT NULL DEFAULT 0,
    files INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    last_change TEXT
  );
  INSERT INTO repo_stats (repo_id, packages, files, bytes, last_change)
    SELECT r.id,
      (SELECT COUNT(*) FROM packages p WHERE p.repo_id = r.id),
      (SELECT COUNT(*) FROM files f WHERE f.repo_id = r.id),
      (SELECT COALESCE(SUM(size), 0) FROM files f WHERE f.repo_id = r.id),
      (SELECT MAX(created_at) FROM files f WHERE f.repo_id = r.id)
    FROM repositories r;
  CREATE TRIGGER repo_stats_repo AFTER INSERT ON repositories BEGIN
    INSERT INTO repo_stats (repo_id, last_change) VALUES (new.id, new.created_at);
  END;
  CREATE TRIGGER repo_stats_package_in AFTER INSERT ON packages BEGIN
    UPDATE repo_stats SET packages = packages + 1, last_change = new.updated_at WHERE repo_id = new.repo_id;
  END;
  CREATE TRIGGER repo_stats_package_out AFTER DELETE ON packages BEGIN
    UPDATE repo_stats SET packages = packages - 1, last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE repo_id = old.repo_id;
  END;
  CREATE TRIGGER repo_stats_file_in AFTER INSERT ON files BEGIN
    UPDATE repo_stats SET files = files + 1, bytes = bytes + new.size, last_change = new.created_at WHERE repo_id = new.repo_id;
  END;
  CREATE TRIGGER repo_stats_file_out AFTER DELETE ON files BEGIN
    UPDATE repo_stats SET files = files - 1, bytes = bytes - old.size, last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE repo_id = old.repo_id;
  END;
  CREATE TRIGGER repo_stats_file_change AFTER UPDATE OF size, sha256 ON files BEGIN
    UPDATE repo_stats SET bytes = bytes - old.size + new.size, last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE repo_id = new.repo_id;
  END;

  CREATE VIRTUAL TABLE package_search USING fts5(
    display_name, summary, content = 'packages', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
  );
  INSERT INTO package_search (package_search) VALUES ('rebuild');
  CREATE TRIGGER package_search_in AFTER INSERT ON packages BEGIN
    INSERT INTO package_search (rowid, display_name, summary) VALUES (new.id, new.display_name, new.summary);
  END;
  CREATE TRIGGER package_search_out AFTER DELETE ON packages BEGIN
    INSERT INTO package_search (package_search, rowid, display_name, summary) VALUES ('delete', old.id, old.display_name, old.summary);
  END;
  CREATE TRIGGER package_search_change AFTER UPDATE OF display_name, summary ON packages BEGIN
    INSERT INTO package_search (package_search, rowid, display_name, summary) VALUES ('delete', old.id, old.display_name, old.summary);
    INSERT INTO package_search (rowid, display_name, summary) VALUES (new.id, new.display_name, new.summary);
  END;
  `,
  // Browser sessions (src/core/auth/sessions.ts): only a hash of the cookie's secret is kept.
  // Times are milliseconds since the epoch; rows go with their user.
  `
  CREATE TABLE sessions (
    secret_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX sessions_by_user ON sessions(user_id);
  CREATE INDEX sessions_by_expiry ON sessions(expires_at);
  `,
  // One change feed for every process on this database (docs/scale-out.md): each write of a
  // repository's files, cached upstream metadata or settings appends a row in the transaction
  // that writes, by trigger, so no write path can forget it. Index documents (only
  // Store.replaceScope writes them) and signing keys (RepoKeys) add theirs in code. A process
  // applies the rows after the last one it saw to its in-memory state before using it.
  `
  CREATE TABLE repo_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
  );
  CREATE TRIGGER repo_changes_file_in AFTER INSERT ON files BEGIN
    INSERT INTO repo_changes (repo_id, kind, subject) VALUES (new.repo_id, 'file', new.path);
  END;
  CREATE TRIGGER repo_changes_file_change AFTER UPDATE ON files BEGIN
    INSERT INTO repo_changes (repo_id, kind, subject) VALUES (new.repo_id, 'file', new.path);
    INSERT INTO repo_changes (repo_id, kind, subject) SELECT old.repo_id, 'file', old.path WHERE old.path <> new.path;
  END;
  CREATE TRIGGER repo_changes_file_out AFTER DELETE ON files
    WHEN EXISTS (SELECT 1 FROM repositories WHERE id = old.repo_id) BEGIN
    INSERT INTO repo_changes (repo_id, kind, subject) VALUES (old.repo_id, 'file', old.path);
  END;
  CREATE TRIGGER repo_changes_proxy_in AFTER INSERT ON proxy_cache BEGIN
    INSERT INTO repo_changes (repo_id, kind, subject) VALUES (new.repo_id, 'proxy', new.key);
  END;
  CREATE TRIGGER repo_changes_proxy_change AFTER UPDATE ON proxy_cache BEGIN
    INSERT INTO repo_changes (repo_id, kind, subject) VALUES (new.repo_id, 'proxy', new.key);
  END;
  CREATE TRIGGER repo_changes_proxy_out AFTER DELETE ON proxy_cache
    WHEN EXISTS (SELECT 1 FROM repositories WHERE id = old.repo_id) BEGIN
    INSERT INTO repo_changes (repo_id, kind, subject) VALUES (old.repo_id, 'proxy', old.key);
  END;
  CREATE TRIGGER repo_changes_repo_in AFTER INSERT ON repositories BEGIN
    INSERT INTO repo_changes (repo_id, kind, subject) VALUES (new.id, 'repo', new.name);
  END;
  CREATE TRIGGER repo_changes_repo_change AFTER UPDATE ON repositories BEGIN
    INSERT INTO repo_changes (repo_id, kind, subject) VALUES (new.id, 'repo', new.name);
  END;
  CREATE TRIGGER repo_changes_repo_out AFTER DELETE ON repositories BEGIN
    INSERT INTO repo_changes (repo_id, kind, subject) VALUES (old.id, 'repo', old.name);
  END;
  `,
  // Blob pins shared by every process on the database (docs/scale-out.md): an upload pins
  // its blobs before storing them and until its rows commit, and gc claims a blob before it
  // deletes it; each waits for the other, so gc on one replica never deletes bytes that an
  // upload on another is committing, however short the grace period. Pins of a process that
  // died expire (ms since the epoch).
  `
  CREATE TABLE blob_pins (
    id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('commit', 'delete')),
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX blob_pins_by_blob ON blob_pins(sha256);
  `,
  // Project status (PEP 792; src/formats/pypi/project-status.ts): a row per project whose
  // status is not the default, by name, so it outlives the project's last file (a quarantined
  // name stays closed to uploads). Each change goes through the change feed, by trigger.
  `
  CREATE TABLE package_status (
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (repo_id, name)
  );
  CREATE TRIGGER repo_changes_status_in AFTER INSERT ON package_status BEGIN
    INSERT INTO repo_changes (repo_id, kind, subject) VALUES (new.repo_id, 'status', new.name);
  END;
  CREATE TRIGGER repo_changes_status_change AFTER UPDATE ON package_status BEGIN
    INSERT INTO repo_changes (repo_id, kind, subject) VALUES (new.repo_id, 'status', new.name);
  END;
  CREATE TRIGGER repo_changes_status_out AFTER DELETE ON package_status
    WHEN EXISTS (SELECT 1 FROM repositories WHERE id = old.repo_id) BEGIN
    INSERT INTO repo_changes (repo_id, kind, subject) VALUES (old.repo_id, 'status', old.name);
  END;
  `,  // The audit trail (src/db/audit-log.ts, docs/security.md): one row per change, written in
  // the change's own transaction. No foreign keys: an entry outlives the repository, user or
  // token it names. One index only (a repository's admins read by repository): every index
  // costs each upload tens of microseconds; times are found through the ids, which follow
  // commit order (AuditLog.firstIdSince). Ids are not reused: only pruning deletes, oldest
  // first, and it leaves its own entry behind.
  `
  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    token_id TEXT,
    token_name TEXT,
    address TEXT,
    repo TEXT,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX audit_log_by_repo ON audit_log(repo, id);
  `,
  // Proxy content use (src/core/proxy/cache-usage.ts): when a cached upstream file was last
  // served (recorded at most once an hour per file) and whether a mirror sync brought it in
  // (only those are pruned by a later sync). A row of its own, not a column of files: a
  // touch then fires none of the files triggers and no change-feed entry.
  `
  CREATE TABLE proxy_file_use (
    file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    last_used TEXT,
    mirrored INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX proxy_file_use_by_repo ON proxy_file_use(repo_id);
  `,
  // When a proxy first saw each package its upstream's index lists (APT pool paths, Arch
  // package file names): the age an APT or Arch cooldown (minAge) goes by, as those indexes
  // carry no upload time (src/db/first-seen-store.ts). Rows go with their repository.
  `
  CREATE TABLE upstream_first_seen (
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (repo_id, key)
  );
  `,
  // Time travel (src/core/time-travel.ts, docs/decisions.md): each row is one state of a file
  // of a hosted repository, valid from `valid_from` until `valid_to` (open while the file is as
  // it is). Kept by triggers, so every path that adds, replaces, changes or deletes a file
  // (cascades included) is recorded. The package and version are taken when the row opens:
  // by the time a cascade deletes the file they are gone. The file's own columns are copied
  // only when the row closes; an open row reads them from `files`. A blob a closed row names
  // is kept by gc until the row is pruned (historyDays; a snapshot keeps what it lists).
  `
  CREATE TABLE file_history (
    id INTEGER PRIMARY KEY,
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    file_id INTEGER NOT NULL,
    path TEXT NOT NULL,
    package TEXT,
    display_name TEXT,
    version TEXT,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    filename TEXT,
    sha256 TEXT,
    size INTEGER,
    meta TEXT,
    created_at TEXT,
    uploaded_by TEXT
  );
  CREATE INDEX file_history_open ON file_history(file_id) WHERE valid_to IS NULL;
  CREATE INDEX file_history_by_path ON file_history(repo_id, path);
  CREATE INDEX file_history_by_package ON file_history(repo_id, package) WHERE package IS NOT NULL;
  CREATE INDEX file_history_by_blob ON file_history(sha256) WHERE sha256 IS NOT NULL;
  INSERT INTO file_history (repo_id, file_id, path, package, display_name, version, valid_from)
    SELECT f.repo_id, f.id, f.path, p.name, p.display_name, v.version, f.created_at
    FROM files f JOIN repositories r ON r.id = f.repo_id AND r.kind = 'hosted'
    LEFT JOIN versions v ON v.id = f.version_id LEFT JOIN packages p ON p.id = v.package_id;
  CREATE TRIGGER file_history_in AFTER INSERT ON files
    WHEN (SELECT kind FROM repositories WHERE id = new.repo_id) = 'hosted' BEGIN
    INSERT INTO file_history (repo_id, file_id, path, package, display_name, version, valid_from)
      SELECT new.repo_id, new.id, new.path, p.name, p.display_name, v.version, new.created_at
      FROM (SELECT 1) LEFT JOIN versions v ON v.id = new.version_id LEFT JOIN packages p ON p.id = v.package_id;
  END;
  CREATE TRIGGER file_history_change AFTER UPDATE OF path, filename, sha256, size, meta ON files
    WHEN old.path IS NOT new.path OR old.filename IS NOT new.filename OR old.sha256 IS NOT new.sha256
      OR old.size IS NOT new.size OR old.meta IS NOT new.meta BEGIN
    UPDATE file_history SET valid_to = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), filename = old.filename, sha256 = old.sha256, size = old.size,
      meta = old.meta, created_at = old.created_at, uploaded_by = old.uploaded_by
      WHERE file_id = old.id AND valid_to IS NULL;
    INSERT INTO file_history (repo_id, file_id, path, package, display_name, version, valid_from)
      SELECT new.repo_id, new.id, new.path, p.name, p.display_name, v.version, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
      FROM (SELECT 1) LEFT JOIN versions v ON v.id = new.version_id LEFT JOIN packages p ON p.id = v.package_id
      WHERE (SELECT kind FROM repositories WHERE id = new.repo_id) = 'hosted';
  END;
  CREATE TRIGGER file_history_out AFTER DELETE ON files BEGIN
    UPDATE file_history SET valid_to = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), filename = old.filename, sha256 = old.sha256, size = old.size,
      meta = old.meta, created_at = old.created_at, uploaded_by = old.uploaded_by
      WHERE file_id = old.id AND valid_to IS NULL;
  END;
  CREATE TABLE snapshots (
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT,
    PRIMARY KEY (repo_id, name)
  );
  `,
  // When each first-seen row's key was last listed by its upstream (refreshed at most daily),
  // and for '#read <index>' rows the last read of that index: rows no index lists any more
  // are pruned (FirstSeenStore.prune). NULL for rows from before: never pruned.
  `
  ALTER TABLE upstream_first_seen ADD COLUMN last_listed TEXT;
  `,
  // Time travel resolves an instant to the repository's last change at or before it
  // (HistoryStore.lastChangeAt): a seek in each of these, not a scan of the repository's history.
  `
  CREATE INDEX file_history_by_start ON file_history(repo_id, valid_from);
  CREATE INDEX file_history_by_end ON file_history(repo_id, valid_to) WHERE valid_to IS NOT NULL;
  `,
];
