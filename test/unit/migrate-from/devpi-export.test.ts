// A hostile or damaged devpi export: upload times devpi never wrote give a DevpiExportError or
// no time (never a crash), and a file that is a symbolic link out of the export is refused
// before anything is read from it.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DevpiExportError, parseDevpiExport } from '../../../src/migrate-from/devpi/export.ts';
import { readDevpiExport } from '../../../src/migrate-from/devpi/migrate.ts';

const exportWith = (files: unknown[]) => JSON.stringify({
  dumpversion: '2', users: { alice: {} },
  indexes: { 'alice/dev': { indexconfig: { type: 'stage', bases: [] }, files } },
});
const file = (name: string, extra: Record<string, unknown>) => ({ relpath: `alice/dev/+f/${name}`, type: 'releasefile', projectname: 'x', version: '1.0', ...extra });

test('upload times out of range or of the wrong shape give no time, not a crash', () => {
  const bad = [[1e20, 1, 1, 0, 0, 0], [2024, 1, 1, 0, 0, Number.MAX_VALUE], [5, 1, 1, 0, 0, 0], [2024, 13, 45, 99, 99, 99], [300000, 1, 1, 0, 0, 0]];
  const files = bad.map((when, i) => file(`x-1.${i}-py3-none-any.whl`, { log: [{ what: 'upload', who: 'alice', when }] }));
  files.push(file('x-2.0-py3-none-any.whl', { entrymapping: { last_modified: 'Sat, 01 Jan 275761 00:00:00 GMT' } }));
  files.push(file('x-3.0-py3-none-any.whl', { log: [{ what: 'upload', who: 'alice', when: [2024, 5, 1, 12, 30, 0] }] }));
  const exp = parseDevpiExport(exportWith(files));
  const times = exp.indexes[0].files.map((f) => f.uploadedAt);
  assert.deepEqual(times, [undefined, undefined, undefined, undefined, undefined, undefined, '2024-05-01T12:30:00.000Z']);
});

test('a release file that is a symbolic link out of the export is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-devpi-export-'));
  try {
    const outside = join(dir, '..', `${dir.split('/').pop()}-secret`);
    await writeFile(outside, 'secret');
    await mkdir(join(dir, 'alice/dev/+f'), { recursive: true });
    await symlink(outside, join(dir, 'alice/dev/+f/x-1.0-py3-none-any.whl'));
    // A directory on the way that links out is refused just the same.
    await mkdir(join(dir, 'alice/dev/+g'), { recursive: true });
    await symlink(join(dir, '..'), join(dir, 'alice/dev/+g/up'));
    await writeFile(join(dir, 'dataindex.json'), exportWith([file('x-1.0-py3-none-any.whl', {})]));
    await assert.rejects(readDevpiExport(dir), (e: Error) => e instanceof DevpiExportError && /outside the export/.test(e.message));
    await writeFile(join(dir, 'dataindex.json'), exportWith([{ ...file('x', {}), relpath: `alice/dev/+g/up/${outside.split('/').pop()}` }]));
    await assert.rejects(readDevpiExport(dir), (e: Error) => e instanceof DevpiExportError && /outside the export/.test(e.message));
    await rm(outside);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a devpi user whose name Wharf refuses is skipped with its grants, before anything changes', async () => {
  const { planMigration } = await import('../../../src/migrate-from/devpi/plan.ts');
  const exp = parseDevpiExport(JSON.stringify({
    dumpversion: '2', users: { alice: {}, __token__: {}, 'bad name': {}, ['x'.repeat(65)]: {} },
    indexes: { 'alice/dev': { indexconfig: { type: 'stage', bases: [], acl_upload: ['alice', '__token__', 'bad name'] }, files: [] } },
  }));
  const plan = planMigration(exp);
  assert.deepEqual(plan.users.map((u) => u.name), ['alice']);
  assert.deepEqual(plan.grants.map((g) => g.user), ['alice']);
  assert.deepEqual(plan.skipped.filter((s) => s.kind === 'user').map((s) => s.name).sort(), ['__token__', 'bad name', 'x'.repeat(65)].sort());
});

test('a dataindex.json too large to parse here is a DevpiExportError that says so', async () => {
  const { constants } = await import('node:buffer');
  const { truncate } = await import('node:fs/promises');
  const dir = await mkdtemp(join(tmpdir(), 'wharf-devpi-export-'));
  try {
    // Sparse: it takes no room, and is refused before it is read.
    await writeFile(join(dir, 'dataindex.json'), '');
    await truncate(join(dir, 'dataindex.json'), constants.MAX_STRING_LENGTH + 1);
    await assert.rejects(readDevpiExport(dir), (e: Error) => e instanceof DevpiExportError && /too large/.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a release file that is a directory or a named pipe (which would hang the read) is refused', async () => {
  const { execFileSync } = await import('node:child_process');
  const dir = await mkdtemp(join(tmpdir(), 'wharf-devpi-export-'));
  try {
    await mkdir(join(dir, 'alice/dev/+f/x-1.0-py3-none-any.whl'), { recursive: true });
    await writeFile(join(dir, 'dataindex.json'), exportWith([file('x-1.0-py3-none-any.whl', {})]));
    await assert.rejects(readDevpiExport(dir), (e: Error) => e instanceof DevpiExportError && /not a regular file/.test(e.message));
    execFileSync('mkfifo', [join(dir, 'alice/dev/+f/y-1.0-py3-none-any.whl')]);
    await writeFile(join(dir, 'dataindex.json'), exportWith([file('y-1.0-py3-none-any.whl', {})]));
    await assert.rejects(readDevpiExport(dir), (e: Error) => e instanceof DevpiExportError && /not a regular file/.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
