// A database written by a newer Wharf is refused with a clear line instead of being opened
// (and written to) by an older one that does not know its schema.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { describeStartupError } from '../../../src/cli/startup-errors.ts';
import { openDatabase, SchemaTooNewError } from '../../../src/db/database.ts';
import { migrations } from '../../../src/db/migrations.ts';

test('a database from a newer Wharf is refused, naming both schema versions', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-schema-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'wharf.db');
  openDatabase(file).close();
  const raw = new DatabaseSync(file);
  raw.exec(`PRAGMA user_version = ${migrations.length + 1}`);
  raw.close();
  let caught: unknown;
  try {
    openDatabase(file);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof SchemaTooNewError, String(caught));
  const line = describeStartupError(caught, { host: '127.0.0.1', port: 8080, data: dir });
  assert.equal(line, `${dir}: the database is at schema version ${migrations.length + 1}, newer than this Wharf knows (${migrations.length}): `
    + 'a newer Wharf wrote it; run that version, or restore the backup made before the upgrade');
  // The current schema still opens.
  const again = new DatabaseSync(file);
  again.exec(`PRAGMA user_version = ${migrations.length}`);
  again.close();
  openDatabase(file).close();
});
