// Package signatures the server makes (streamed, through Node's crypto for Ed25519 keys)
// are judged by gpgv, the verifier pacman's gpgme relies on, and by openpgp.js.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { generateSigningKey, type SigningKey } from '../../../src/core/signing.ts';
import { signStream, verifyStream } from '../../../src/formats/arch/package-signing.ts';

test('signStream: a binary signature per key, over a package read in chunks, that gpgv and openpgp.js accept', async (t) => {
  const keys = await Promise.all([
    generateSigningKey({ name: 'Wharf Arch', email: 'one@example.com' }),
    generateSigningKey({ name: 'Wharf Arch Two', email: 'two@example.com' }),
  ]);
  const home = await mkdtemp(path.join(os.tmpdir(), 'wharf-arch-sig-'));
  t.after(() => rm(home, { recursive: true, force: true }));
  let rings = 0;
  const data = randomBytes(3 * 65536 + 17);
  const chunks = () => Readable.from([data.subarray(0, 1000), data.subarray(1000, 70000), data.subarray(70000)]);
  for (const signers of [[keys[0]], keys] as SigningKey[][]) {
    const sig = await signStream(chunks(), signers);
    assert.equal(sig[0] & 0xc0, 0xc0, 'binary packets, not armor');
    for (const k of signers) {
      assert.equal((await verifyStream(chunks(), sig, [k.armoredPublicKey])).valid, true);
    }
    await writeFile(path.join(home, 'pkg'), data);
    await writeFile(path.join(home, 'pkg.sig'), sig);
    const gpgv = (ringKeys: readonly SigningKey[]) => {
      const ring = path.join(home, 'ring.gpg');
      const g = path.join(home, `g${rings++}`);
      execFileSync('mkdir', ['-p', g]);
      for (const k of ringKeys) spawnSync('gpg', ['--homedir', g, '--batch', '--import'], { input: k.armoredPublicKey });
      execFileSync('gpg', ['--homedir', g, '--batch', '--yes', '--output', ring, '--export']);
      return spawnSync('gpgv', ['--keyring', ring, path.join(home, 'pkg.sig'), path.join(home, 'pkg')], { encoding: 'utf8' });
    };
    const good = gpgv(signers);
    assert.equal(good.status, 0, good.stderr);
    if (signers.length === 1) assert.notEqual(gpgv([keys[1]]).status, 0, 'another key does not verify it');
    // Other bytes do not verify.
    const other = Buffer.from(data);
    other[5] ^= 1;
    assert.equal((await verifyStream(Readable.from([other]), sig, [signers[0].armoredPublicKey])).valid, false);
  }
});
