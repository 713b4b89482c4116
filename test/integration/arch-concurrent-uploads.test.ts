// Concurrent uploads to an Arch repository of a freshly started server: every package that
// was answered 201 is in the db pacman reads. (Issue 8, defect 1: the first build after a
// start used to forget the names whose uploads had not committed yet, and 16 concurrent
// uploads left 2 in the db.)
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readRepoDb } from '../../src/formats/arch/db-archive.ts';
import { spawnServer, type ChildServer } from '../helpers/child-server.ts';
import { tinyPackage } from './arch-helpers.ts';

const UPLOADS = Number(process.env.WHARF_ARCH_CONCURRENT_UPLOADS ?? 24);

describe('concurrent Arch uploads to a freshly started server', { skip: process.getuid?.() !== 0 ? 'bsdtar packages as root' : false }, () => {
  let dir: string;
  let server: ChildServer | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-arch-conc-'));
  });
  after(async () => {
    await server?.kill9();
    await rm(dir, { recursive: true, force: true });
  });

  it(`lists all ${UPLOADS} packages answered 201 in the db`, async () => {
    const data = path.join(dir, 'data');
    server = await spawnServer(data);
    const created = await fetch(`${server.url}/-/api/v1/repositories`, {
      method: 'POST', headers: { authorization: server.adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'arch', format: 'arch' }),
    });
    assert.equal(created.status, 201, await created.text());
    // A new process: the repository's db state is not loaded until the first publish.
    await server.stop();
    server = await spawnServer(data);

    const files = await Promise.all(Array.from({ length: UPLOADS }, (_, i) => tinyPackage(dir, { name: `pkg${i}`, version: '1.0-1' })));
    const url = server.url;
    const auth = server.adminAuth;
    const answers = await Promise.all(files.map(async (f) => {
      const res = await fetch(`${url}/arch/upload/${path.basename(f)}`, { method: 'PUT', headers: { authorization: auth }, body: await readFile(f) });
      return { status: res.status, text: await res.text() };
    }));
    for (const a of answers) assert.equal(a.status, 201, a.text);

    const db = await readRepoDb(new Uint8Array(await (await fetch(`${url}/arch/x86_64/arch.db`)).arrayBuffer()));
    assert.deepEqual([...db.keys()].sort(), Array.from({ length: UPLOADS }, (_, i) => `pkg${i}-1.0-1`).sort());
  });
});
