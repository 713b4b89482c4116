// A database written by a newer Wharf is refused with a clear line instead of being opened
// (and written to) by an older one that does not know its schema; on both engines.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import pg from 'pg';
import { describeStartupError } from '../../../src/cli/startup-errors.ts';
import { openDatabase, SchemaTooNewError } from '../../../src/db/database.ts';
import { migrations } from '../../../src/db/migrations.ts';
import { postgresMigrations } from '../../../src/db/migrations-postgres.ts';
import { engineNames, freshPostgresUrl } from '../../helpers/engines.ts';

const tooNew = (n: number) => `the database is at schema version ${n + 1}, newer than this Wharf knows (${n}): `
  + 'a newer Wharf wrote it; run that version, or restore the backup made before the upgrade';

test('a SQLite database from a newer Wharf is refused, naming both schema versions', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-schema-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'wharf.db');
  await (await openDatabase(file)).close();
  const raw = new DatabaseSync(file);
  raw.exec(`PRAGMA user_version = ${migrations.length + 1}`);
  raw.close();
  const caught = await openDatabase(file).then(() => null, (err: unknown) => err);
  assert.ok(caught instanceof SchemaTooNewError, String(caught));
  const line = describeStartupError(caught, { host: '127.0.0.1', port: 8080, data: dir });
  assert.equal(line, `${dir}: ${tooNew(migrations.length)}`);
  // The current schema still opens.
  const again = new DatabaseSync(file);
  again.exec(`PRAGMA user_version = ${migrations.length}`);
  again.close();
  await (await openDatabase(file)).close();
});

test('PostgreSQL: the same number of migrations, applied once by replicas starting together, and a newer schema refused',
  { skip: !engineNames().includes('postgres') && 'PostgreSQL left out (WHARF_TEST_ENGINES)' }, async () => {
    assert.equal(postgresMigrations.length, migrations.length, 'each SQLite migration has its PostgreSQL twin');
    const url = await freshPostgresUrl();
    const opened = await Promise.all([openDatabase(url), openDatabase(url), openDatabase(url)]);
    for (const o of opened) await o.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      assert.deepEqual((await client.query('SELECT version FROM wharf_schema')).rows, [{ version: migrations.length }]);
      await client.query('UPDATE wharf_schema SET version = $1', [migrations.length + 1]);
      const caught = await openDatabase(url).then(() => null, (err: unknown) => err);
      assert.ok(caught instanceof SchemaTooNewError, String(caught));
      assert.equal((caught as Error).message, tooNew(migrations.length));
    } finally {
      await client.end();
    }
  });
