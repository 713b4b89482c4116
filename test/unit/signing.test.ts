// Signatures made here are judged by the real verifiers: gpgv (what apt and pacman's
// gpgme rely on) and gpg, each in a throw-away GNUPGHOME.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { isWharfError } from '../../src/core/errors.ts';
import {
  clearsign, detachSign, generateSigningKey, importSigningKey, publicKeysArmored, verifyDetached, type SigningKey,
} from '../../src/core/signing.ts';

async function gnupgHome(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-gpg-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function gpg(home: string, args: string[], input?: string | Uint8Array) {
  return spawnSync('gpg', ['--homedir', home, '--batch', '--no-tty', ...args], { input, encoding: 'utf8' });
}

/** A keyring file holding the given armored public keys, for gpgv. */
async function keyring(home: string, armored: string): Promise<string> {
  const imported = gpg(home, ['--import'], armored);
  assert.equal(imported.status, 0, imported.stderr);
  const file = path.join(home, 'keyring.gpg');
  execFileSync('gpg', ['--homedir', home, '--batch', '--yes', '--output', file, '--export']);
  return file;
}

function gpgv(ring: string, ...files: string[]) {
  return spawnSync('gpgv', ['--keyring', ring, ...files], { encoding: 'utf8' });
}

let shared: Promise<[SigningKey, SigningKey]> | undefined;
const twoKeys = () => (shared ??= Promise.all([
  generateSigningKey({ name: 'Wharf Test', email: 'one@example.com' }),
  generateSigningKey({ name: 'Wharf Test Two', email: 'two@example.com' }),
]));

test('generated keys are v4 Ed25519 (EdDSA) with an upper-case fingerprint', async (t) => {
  const [key] = await twoKeys();
  assert.match(key.fingerprint, /^[0-9A-F]{40}$/);
  assert.ok(!Number.isNaN(Date.parse(key.createdAt)));
  assert.match(key.armoredPrivateKey, /^-----BEGIN PGP PRIVATE KEY BLOCK-----/);
  const home = await gnupgHome(t);
  const listed = gpg(home, ['--with-colons', '--import-options', 'show-only', '--import'], key.armoredPublicKey);
  assert.equal(listed.status, 0, listed.stderr);
  // pub line: field 4 is the algorithm (22 = EdDSA), field 17 the curve.
  const pub = listed.stdout.split('\n').find((l) => l.startsWith('pub:'))!.split(':');
  assert.equal(pub[3], '22');
  assert.equal(pub[16], 'ed25519');
  assert.match(listed.stdout, new RegExp(`^fpr:+${key.fingerprint}:`, 'm'));
  assert.match(listed.stdout, /Wharf Test <one@example\.com>/);
});

test('clearsign: gpgv verifies an InRelease signed by two keys, with Hash: SHA512', async (t) => {
  const keys = await twoKeys();
  const text = 'Origin: Wharf\nLabel: Wharf\nSuite: stable\n- a line starting with a dash\nDescription: x\n';
  const signed = await clearsign(text, keys);
  assert.match(signed, /^-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n/);
  const home = await gnupgHome(t);
  const file = path.join(home, 'InRelease');
  await writeFile(file, signed);

  // Either key alone is enough for a client during a rotation.
  for (const key of keys) {
    const h = await gnupgHome(t);
    const result = gpgv(await keyring(h, key.armoredPublicKey), file);
    assert.equal(result.status === 0 || /Good signature/.test(result.stderr), true, result.stderr);
    assert.match(result.stderr, new RegExp(`Good signature from "${key === keys[0] ? 'Wharf Test <one' : 'Wharf Test Two <two'}`));
  }
  const both = gpgv(await keyring(home, publicKeysArmored(keys)), file);
  assert.equal(both.status, 0, both.stderr);
  assert.equal(both.stderr.match(/Good signature/g)?.length, 2);

  // The signed text is what gpg recovers, and a tampered copy fails.
  const out = gpg(home, ['--decrypt'], signed);
  assert.equal(out.stdout, text);
  const tampered = path.join(home, 'InRelease.bad');
  await writeFile(tampered, signed.replace('Suite: stable', 'Suite: unstable'));
  assert.notEqual(gpgv(path.join(home, 'keyring.gpg'), tampered).status, 0);
});

test('detachSign: armored (Release.gpg) and binary (.sig) signatures verify with gpgv and use SHA-512', async (t) => {
  const [one, two] = await twoKeys();
  const home = await gnupgHome(t);
  const ring = await keyring(home, publicKeysArmored([one, two]));
  const data = Buffer.from('Origin: Wharf\n\u00e9\x00binary\xff bytes\n', 'latin1');
  const file = path.join(home, 'Release');
  await writeFile(file, data);

  const armored = await detachSign(data, [one], { armor: true });
  assert.equal(typeof armored, 'string');
  assert.match(armored, /^-----BEGIN PGP SIGNATURE-----/);
  await writeFile(`${file}.gpg`, armored);
  const r1 = gpgv(ring, `${file}.gpg`, file);
  assert.equal(r1.status, 0, r1.stderr);

  const binary = await detachSign(data, [two], { armor: false });
  assert.ok(binary instanceof Uint8Array);
  assert.equal(binary[0] & 0x80, 0x80, 'an OpenPGP packet, not armor');
  await writeFile(`${file}.sig`, binary);
  const r2 = gpgv(ring, `${file}.sig`, file);
  assert.equal(r2.status, 0, r2.stderr);
  assert.match(r2.stderr, /Good signature from "Wharf Test Two/);
  // digest algo 10 is SHA-512; algo 22 is EdDSA.
  const packets = gpg(home, ['--list-packets', `${file}.sig`]).stdout;
  assert.match(packets, /algo 22/);
  assert.match(packets, /digest algo 10/);

  await writeFile(file, Buffer.concat([data, Buffer.from('x')]));
  assert.notEqual(gpgv(ring, `${file}.sig`, file).status, 0);
});

test('verifyDetached accepts good signatures only, and names the signer', async () => {
  const [one, two] = await twoKeys();
  const data = new TextEncoder().encode('pacman db bytes');
  const sig = await detachSign(data, [two], { armor: false });
  const armored = await detachSign(data, [one, two], { armor: true });
  assert.deepEqual(await verifyDetached(data, sig, [one.armoredPublicKey, two.armoredPublicKey]), { valid: true, fingerprint: two.fingerprint });
  assert.deepEqual(await verifyDetached(data, sig, [publicKeysArmored([one, two])]), { valid: true, fingerprint: two.fingerprint });
  assert.equal((await verifyDetached(data, armored, [one.armoredPublicKey])).fingerprint, one.fingerprint);
  assert.deepEqual(await verifyDetached(data, sig, [one.armoredPublicKey]), { valid: false });
  assert.deepEqual(await verifyDetached(new TextEncoder().encode('other bytes'), sig, [two.armoredPublicKey]), { valid: false });
  assert.deepEqual(await verifyDetached(data, 'not a signature', [two.armoredPublicKey]), { valid: false });
  assert.deepEqual(await verifyDetached(data, sig, []), { valid: false });
});

test('a signature made by gpg verifies with verifyDetached', async (t) => {
  const home = await gnupgHome(t);
  const gen = gpg(home, ['--passphrase', '', '--quick-gen-key', 'GPG Made <gpg@example.com>', 'ed25519', 'sign', 'never']);
  assert.equal(gen.status, 0, gen.stderr);
  const file = path.join(home, 'data');
  await writeFile(file, 'hello');
  assert.equal(gpg(home, ['--detach-sign', '--output', `${file}.sig`, file]).status, 0);
  const pub = gpg(home, ['--armor', '--export']).stdout;
  const sig = execFileSync('cat', [`${file}.sig`]);
  const result = await verifyDetached(new TextEncoder().encode('hello'), new Uint8Array(sig), [pub]);
  assert.equal(result.valid, true);
  const fpr = gpg(home, ['--with-colons', '--list-keys']).stdout.match(/^fpr:+([0-9A-F]{40}):/m)![1];
  assert.equal(result.fingerprint, fpr);
});

test('importSigningKey: own keys round-trip, gpg keys (also with a passphrase) sign for gpgv', async (t) => {
  const [one] = await twoKeys();
  const again = await importSigningKey(one.armoredPrivateKey);
  assert.equal(again.fingerprint, one.fingerprint);
  assert.equal(again.createdAt, one.createdAt);

  const home = await gnupgHome(t);
  const gen = gpg(home, ['--pinentry-mode', 'loopback', '--passphrase', 'sekrit', '--quick-gen-key', 'From GPG <g@example.com>', 'ed25519', 'sign', 'never']);
  assert.equal(gen.status, 0, gen.stderr);
  const secret = gpg(home, ['--pinentry-mode', 'loopback', '--passphrase', 'sekrit', '--armor', '--export-secret-keys']).stdout;
  await assert.rejects(importSigningKey(secret), (e: unknown) => isWharfError(e) && e.code === 'BAD_REQUEST' && /passphrase/.test(e.message));
  await assert.rejects(importSigningKey(secret, 'wrong'), (e: unknown) => isWharfError(e) && /wrong passphrase/.test(e.message));
  const key = await importSigningKey(secret, 'sekrit');
  const fpr = gpg(home, ['--with-colons', '--list-keys']).stdout.match(/^fpr:+([0-9A-F]{40}):/m)![1];
  assert.equal(key.fingerprint, fpr);

  const signed = await clearsign('Suite: stable\n', [key]);
  const file = path.join(home, 'InRelease');
  await writeFile(file, signed);
  const ring = path.join(home, 'ring.gpg');
  execFileSync('gpg', ['--homedir', home, '--batch', '--yes', '--output', ring, '--export']);
  const result = gpgv(ring, file);
  assert.equal(result.status, 0, result.stderr);

  await assert.rejects(importSigningKey(one.armoredPublicKey), (e: unknown) => isWharfError(e) && e.code === 'BAD_REQUEST');
  await assert.rejects(importSigningKey('garbage'), (e: unknown) => isWharfError(e) && e.code === 'BAD_REQUEST');
});

test('publicKeysArmored: one block that gpg imports as several keys', async (t) => {
  const keys = await twoKeys();
  const block = publicKeysArmored(keys);
  assert.equal(block.match(/-----BEGIN PGP PUBLIC KEY BLOCK-----/g)?.length, 1);
  const home = await gnupgHome(t);
  const listed = gpg(home, ['--with-colons', '--import-options', 'show-only', '--import'], block);
  assert.equal(listed.status, 0, listed.stderr);
  const fprs = [...listed.stdout.matchAll(/^fpr:+([0-9A-F]{40}):/gm)].map((m) => m[1]);
  assert.deepEqual(fprs, keys.map((k) => k.fingerprint));
});

test('detachSign: a large file signed by two keys (rotation) verifies twice with gpgv', async (t) => {
  const keys = await twoKeys();
  const home = await gnupgHome(t);
  const ring = await keyring(home, publicKeysArmored(keys));
  const data = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
  const file = path.join(home, 'big.db');
  await writeFile(file, data);
  await writeFile(`${file}.sig`, await detachSign(data, keys, { armor: false }));
  const r = gpgv(ring, `${file}.sig`, file);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.match(/Good signature/g)?.length, 2);
  assert.equal((await verifyDetached(data, await detachSign(data, keys, { armor: true }), [keys[1].armoredPublicKey])).valid, true);
  data[12345] ^= 1;
  await writeFile(file, data);
  assert.notEqual(gpgv(ring, `${file}.sig`, file).status, 0, 'a changed byte fails');
});
