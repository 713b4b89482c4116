import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import tar from 'tar-stream';
import { readBatchBody, type BatchEntry } from '../../../src/server/api/batch-body.ts';

type Spec = { name: string; data?: Buffer; query?: string; type?: 'file' | 'directory' | 'symlink' };

async function tarOf(specs: Spec[]): Promise<Buffer> {
  const pack = tar.pack();
  const done = buffer(pack as unknown as AsyncIterable<Buffer>);
  for (const s of specs) {
    const header = { name: s.name, type: s.type ?? 'file', ...(s.type === 'symlink' ? { linkname: 'x' } : {}), ...(s.query ? { pax: { 'WHARF.query': s.query } } : {}) };
    await new Promise<void>((res, rej) => {
      const cb = (e?: Error | null) => (e ? rej(e) : res());
      if (s.type && s.type !== 'file') pack.entry(header, cb);
      else pack.entry(header, s.data ?? Buffer.alloc(0), cb);
    });
  }
  pack.finalize();
  return done;
}

type Seen = { filename: string; text?: string; fields?: Record<string, string[]>; sha256?: string; error?: string; code?: string };

async function read(body: Buffer, opts = { maxEntryBytes: 1000, fields: { suite: ['stable'] } }): Promise<{ seen: Seen[]; err?: { code?: string; message: string } }> {
  const seen: Seen[] = [];
  try {
    await readBatchBody(Readable.from([body]), opts, async (e: BatchEntry) => {
      if ('error' in e) seen.push({ filename: e.filename, error: e.error.message, code: e.error.code });
      else seen.push({ filename: e.filename, text: (await buffer(e.body)).toString(), fields: e.fields, sha256: e.sha256 });
    });
  } catch (err) {
    return { seen, err: err as { code?: string; message: string } };
  }
  return { seen };
}

describe('readBatchBody', () => {
  it('passes each file with the batch fields, its own query adding to and replacing them', async () => {
    const body = await tarOf([
      { name: 'a.deb', data: Buffer.from('aaa') },
      { name: 'b.deb', data: Buffer.from('bb'), query: 'suite=testing&component=contrib&component=main&sha256=ABC&filename=evil' },
    ]);
    const { seen, err } = await read(body);
    assert.equal(err, undefined);
    assert.deepEqual(seen, [
      { filename: 'a.deb', text: 'aaa', fields: { suite: ['stable'] }, sha256: undefined },
      { filename: 'b.deb', text: 'bb', fields: { suite: ['testing'], component: ['contrib', 'main'] }, sha256: 'ABC' },
    ]);
  });

  it('refuses an oversize entry, a directory and a bad name, and goes on with the next entries', async () => {
    const body = await tarOf([
      { name: 'big.deb', data: Buffer.alloc(1001) },
      { name: 'dir', type: 'directory' },
      { name: 'sub/c.deb', data: Buffer.from('c') },
      { name: 'ok.deb', data: Buffer.from('ok') },
    ]);
    const { seen, err } = await read(body);
    assert.equal(err, undefined);
    assert.deepEqual(seen.map((s) => [s.filename, s.code ?? s.text]), [['big.deb', 'TOO_LARGE'], ['dir', 'BAD_REQUEST'], ['sub/c.deb', 'BAD_REQUEST'], ['ok.deb', 'ok']]);
    assert.match(seen[0].error!, /limit of 1000 bytes/);
  });

  it('answers a body that is not a tar stream with a 400', async () => {
    const { seen, err } = await read(Buffer.alloc(1024, 'x'));
    assert.deepEqual(seen, []);
    assert.equal(err?.code, 'BAD_REQUEST');
    assert.match(err!.message, /not a well-formed tar stream after 0 entries/);
  });

  it('passes the entries before a truncation, then a 400', async () => {
    const body = await tarOf([{ name: 'a.deb', data: Buffer.from('aaa') }, { name: 'b.deb', data: Buffer.alloc(600, 'b') }]);
    const { seen, err } = await read(body.subarray(0, 512 + 512 + 512 + 100));
    assert.deepEqual(seen.map((s) => s.filename), ['a.deb']);
    assert.equal(err?.code, 'BAD_REQUEST');
  });
});
