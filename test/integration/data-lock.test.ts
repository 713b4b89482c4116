// Defect 10: one server per data directory. A second `wharf serve` on the same directory
// must refuse at once, naming the holder, without touching blobs/tmp or the database, so
// the first server's uploads in flight go on; a holder killed with -9 leaves no lock behind.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startServe, type ServeProcess } from '../helpers/serve-process.ts';

const PASSWORD = 'lock-test-password';
const auth = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;

/** A PUT that sends `chunks` slowly; resolves with the status once the body is done. */
function slowPut(url: string, chunks: Buffer[], gapMs: number): { status: Promise<number>; sent: Promise<void> } {
  let sentResolve!: () => void;
  const sent = new Promise<void>((r) => (sentResolve = r));
  const status = new Promise<number>((resolve, reject) => {
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const req = request(url, { method: 'PUT', headers: { authorization: auth, 'content-length': total } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    let i = 0;
    const next = () => {
      if (i === chunks.length) {
        req.end();
        sentResolve();
        return;
      }
      req.write(chunks[i++]);
      setTimeout(next, gapMs);
    };
    next();
  });
  return { status, sent };
}

describe('the data directory lock', () => {
  const procs: ServeProcess[] = [];
  let data = '';
  after(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await rm(data, { recursive: true, force: true });
  });

  it('refuses a second server, keeps the first one\'s upload alive, and is taken over after kill -9', async () => {
    data = await mkdtemp(join(tmpdir(), 'wharf-lock-'));
    const env = { WHARF_ADMIN_PASSWORD: PASSWORD };
    const first = await startServe(data, env);
    procs.push(first);
    const url = await first.ready;
    const created = await fetch(`${url}/-/api/v1/repositories`, {
      method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'files', format: 'files' }),
    });
    assert.equal(created.status, 201, await created.text());

    // 8 MiB in 32 pieces, 100 ms apart: the upload is in blobs/tmp while the second server starts.
    const chunks = Array.from({ length: 32 }, () => randomBytes(256 * 1024));
    const sha = createHash('sha256').update(Buffer.concat(chunks)).digest('hex');
    const upload = slowPut(`${url}/files/big.bin`, chunks, 100);

    await new Promise((r) => setTimeout(r, 300));
    const second = await startServe(data, env);
    procs.push(second);
    // Before the lock, the second server started (port 0 is free) and emptied blobs/tmp.
    const outcome = await Promise.race([second.exited.then((c) => ({ exited: c })), second.ready.then((u) => ({ ready: u }), () => ({ exited: -1 }))]);
    assert.ok('exited' in outcome, `the second server started on ${JSON.stringify(outcome)}`);
    const code = await second.exited;
    assert.notEqual(code, 0);
    const line = second.stderr().trim();
    assert.match(line, new RegExp(`^wharf: the data directory .+ is in use by pid ${first.child.pid} on ${hostname()} since \\d{4}-\\d\\d-\\d\\dT`), line);
    assert.equal(line.split('\n').length, 1, line);

    await upload.sent;
    assert.equal(await upload.status, 201);
    const got = Buffer.from(await (await fetch(`${url}/files/big.bin`)).arrayBuffer());
    assert.equal(createHash('sha256').update(got).digest('hex'), sha);

    // kill -9 leaves the lock file behind, but not the lock: the next server starts.
    first.child.kill('SIGKILL');
    await first.exited;
    const third = await startServe(data, env);
    procs.push(third);
    const url3 = await third.ready;
    const again = Buffer.from(await (await fetch(`${url3}/files/big.bin`)).arrayBuffer());
    assert.equal(createHash('sha256').update(again).digest('hex'), sha);
    third.child.kill('SIGTERM');
    assert.equal(await third.exited, 0);
  });
});
