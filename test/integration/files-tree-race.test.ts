// A files repository never holds a file where a directory is: concurrent PUTs of `a` and of
// `a/b` are decided in the transaction that writes, so exactly one of them is stored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.ts';

const ROUNDS = Number(process.env.WHARF_TREE_RACE_ROUNDS ?? 10);

describe('files: file/directory conflicts under concurrency', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
    const r = await fetch(`${server.url}/-/api/v1/repositories`, { method: 'POST', headers: { authorization: server.adminAuth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'f', format: 'files' }) });
    assert.equal(r.status, 201);
  });
  after(() => server.close());

  it(`PUT a and PUT a/b at once: one is stored, the other answers 409 (${ROUNDS} rounds)`, async () => {
    const put = (path: string) => fetch(`${server.url}/f/${path}`, { method: 'PUT', headers: { authorization: server.adminAuth }, body: `content of ${path}\n` }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    });
    const both: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // Deeper paths too: `x/y` against `x/y/z/w` conflicts at an ancestor two levels up.
      const [file, below] = i % 2 ? [`r${i}`, `r${i}/b`] : [`r${i}/y`, `r${i}/y/z/w`];
      const statuses = await Promise.all([put(file), put(below), put(`${below}2`)]);
      const stored = [file, below, `${below}2`].filter((_, j) => statuses[j] === 201);
      for (const s of statuses) assert.ok(s === 201 || s === 409, `status ${s}`);
      if (stored.includes(file) && stored.some((p) => p !== file)) both.push(stored.join(' + '));
    }
    const { files } = await (await fetch(`${server.url}/-/api/v1/repositories/f/files`, { headers: { authorization: server.adminAuth } })).json() as { files: { path: string }[] };
    const paths = new Set(files.map((f) => f.path));
    const underFile = files.filter((f) => f.path.split('/').some((_, k, segs) => k > 0 && paths.has(segs.slice(0, k).join('/'))));
    assert.deepEqual(both, [], 'a file and a file below it were both stored');
    assert.deepEqual(underFile.map((f) => f.path), []);
  });
});
