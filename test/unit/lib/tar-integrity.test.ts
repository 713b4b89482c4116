// validateTar: the archives GNU tar and bsdtar write pass; the ones tar-stream reads
// differently from them (found by the fuzz suite) are refused.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { validateTar } from '../../../src/lib/tar-integrity.ts';
import { tarOf } from '../../helpers/fuzz-corpus.ts';

let dir: string;
before(async () => { dir = await mkdtemp(path.join(tmpdir(), 'wharf-tar-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

async function check(bytes: Buffer, chunk = 100): Promise<void> {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
  await pipeline(Readable.from(parts), validateTar(), new Writable({ write(_c, _e, cb) { cb(); } }));
}

function fixChecksum(t: Buffer, h: number): void {
  t.fill(0x20, h + 148, h + 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += t[h + i];
  t.write(`${sum.toString(8).padStart(6, '0')}\0 `, h + 148, 'latin1');
}

test('archives written by GNU tar, bsdtar (pax, long names, symlinks) and tar-stream pass', async () => {
  const root = path.join(dir, 'root');
  await mkdir(path.join(root, 'a'.repeat(120), 'b'), { recursive: true });
  await writeFile(path.join(root, 'a'.repeat(120), 'b', `${'c'.repeat(150)}.txt`), 'long\n');
  await writeFile(path.join(root, 'é.txt'), 'x'.repeat(10_000));
  execFileSync('ln', ['-s', 'é.txt', path.join(root, 'link')]);
  for (const [cmd, args] of [['tar', ['--format=gnu']], ['tar', ['--format=pax']], ['bsdtar', ['--format=pax']], ['bsdtar', ['--format=gnutar']]] as const) {
    const bytes = execFileSync(cmd, [...args, '-cf', '-', '-C', root, '.']);
    for (const chunk of [1, 100, 512, 65536]) await check(bytes, chunk);
  }
  await check(await tarOf([{ name: 'x', data: 'y' }]));
  await check(Buffer.alloc(1024)); // an empty archive
});

test('structures other readers see differently are refused', async () => {
  const good = await tarOf([{ name: 'one', data: 'a'.repeat(600) }, { name: 'two', data: 'b' }]);
  const second = 512 + 1024;
  const cases: [string, Buffer, RegExp][] = [];
  cases.push(['cut at an entry boundary', good.subarray(0, second), /end-of-archive/]);
  const lone = Buffer.concat([good.subarray(0, second), Buffer.alloc(512), good.subarray(second)]);
  cases.push(['an entry after a lone zero block', lone, /follows a zero block/]);
  const checksum = Buffer.from(good);
  checksum[second + 5] ^= 1;
  cases.push(['a bad checksum', checksum, /bad header checksum/]);
  const type = Buffer.from(good);
  type.write('A', second + 156, 'latin1');
  fixChecksum(type, second);
  cases.push(['an unknown type', type, /unknown entry type "A"/]);
  const dirSize = Buffer.from(good);
  dirSize.write('5', second + 156, 'latin1');
  fixChecksum(dirSize, second);
  cases.push(['a directory with data', dirSize, /type 5 claims 1 bytes/]);
  const huge = Buffer.from(good);
  huge.fill(0xff, second + 124, second + 136);
  huge[second + 124] = 0x80;
  fixChecksum(huge, second);
  cases.push(['a base-256 size beyond 2^53', huge, /bad size field/]);
  const pax = Buffer.concat([Buffer.from(good.subarray(0, 512)), Buffer.alloc(512)]);
  pax.fill(0, 0, 100);
  pax.write('PaxHeader', 0, 'latin1');
  pax.write('x', 156, 'latin1');
  pax.write('00000000020\0', 124, 'latin1');
  pax.write('99 path=nonsense\n', 512, 'latin1');
  fixChecksum(pax, 0);
  cases.push(['a malformed pax record', Buffer.concat([pax, good]), /pax record overruns/]);
  for (const [label, bytes, pattern] of cases) {
    await assert.rejects(check(bytes), pattern, label);
  }
});

test('a long-name header followed by the end of the archive is refused (fuzz seed 21)', async () => {
  const good = await tarOf([{ name: 'one', data: 'a' }, { name: 'two', data: 'b'.repeat(3000) }]);
  const bad = Buffer.from(good);
  bad.write('K', 1024 + 156, 'latin1');
  fixChecksum(bad, 1024);
  await assert.rejects(check(bad), /describes no entry/);
});
