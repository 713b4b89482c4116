// Detached signatures over package files, streamed (a package can be gigabytes): the
// server's own `.sig` for packages that arrive unsigned, and checking uploaded ones.
// Same key and hash choices as src/core/signing.ts (Ed25519, SHA-512), binary output
// because pacman wants binary `.sig` files.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Readable as NodeReadable } from 'node:stream';
import * as openpgp from 'openpgp';
import { invalidPackage } from '../../core/errors.ts';
import { firstValidSignature, type SigningKey } from '../../core/signing.ts';
import { fastKeyOf, signaturePacketOfHash } from '../../core/signing-fast.ts';
import { MAX_PGPSIG_SIZE } from './desc.ts';

const toWeb = (stream: Readable) => NodeReadable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;

async function drain(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** A binary detached signature over everything `data` yields, by every key given. */
export async function signStream(data: Readable, keys: readonly SigningKey[]): Promise<Uint8Array> {
  if (keys.length === 0) throw new TypeError('at least one signing key is required');
  const fast = await Promise.all(keys.map((k) => fastKeyOf(k.armoredPrivateKey)));
  if (fast.every((k) => k !== null)) {
    // The keys Wharf makes (Ed25519): hashed by Node's crypto as the file is read, one
    // packet per key, as openpgp.js would write them.
    const hashes = fast.map(() => createHash('sha512'));
    for await (const chunk of data) for (const h of hashes) h.update(chunk as Buffer);
    const created = new Date();
    return new Uint8Array(Buffer.concat(fast.map((k, i) => signaturePacketOfHash(hashes[i], k!, created))));
  }
  const signingKeys = await Promise.all(keys.map((k) => openpgp.readPrivateKey({ armoredKey: k.armoredPrivateKey })));
  const message = await openpgp.createMessage({ binary: toWeb(data) });
  const sig = await openpgp.sign({
    message, signingKeys, detached: true, format: 'binary',
    config: { preferredHashAlgorithm: openpgp.enums.hash.sha512 },
  });
  return drain(sig as unknown as ReadableStream<Uint8Array>);
}

/**
 * An uploaded `.sig` as pacman wants it: one binary OpenPGP signature packet list. An
 * ASCII-armored one is converted; anything else is refused.
 */
export async function readPackageSignature(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes.length === 0) throw invalidPackage('the signature file is empty');
  if (bytes.length > MAX_PGPSIG_SIZE * 2) throw invalidPackage(`a package signature is at most ${MAX_PGPSIG_SIZE} bytes`);
  const text = Buffer.from(bytes).toString('latin1');
  try {
    const sig = text.includes('-----BEGIN PGP SIGNATURE-----')
      ? await openpgp.readSignature({ armoredSignature: text })
      : await openpgp.readSignature({ binarySignature: bytes });
    if (sig.packets.length === 0) throw new Error('no signature packet');
    const binary = sig.write();
    if (binary.length > MAX_PGPSIG_SIZE) throw invalidPackage(`a package signature is at most ${MAX_PGPSIG_SIZE} bytes`);
    return binary;
  } catch (err) {
    if (err instanceof Error && err.name === 'WharfError') throw err;
    throw invalidPackage(`not an OpenPGP signature: ${(err as Error).message}`);
  }
}

/**
 * Whether `signature` (binary) verifies over everything `data` yields with one of the
 * armored public keys; gives the primary fingerprint of the key that made it.
 */
export async function verifyStream(data: Readable, signature: Uint8Array, armoredPublicKeys: readonly string[]): Promise<{ valid: boolean; fingerprint?: string }> {
  let keys: openpgp.Key[];
  try {
    keys = (await Promise.all(armoredPublicKeys.map((armoredKeys) => openpgp.readKeys({ armoredKeys })))).flat();
  } catch {
    data.destroy();
    return { valid: false };
  }
  try {
    const message = await openpgp.createMessage({ binary: toWeb(data) });
    const sig = await openpgp.readSignature({ binarySignature: signature });
    const result = await openpgp.verify({ message, signature: sig, verificationKeys: keys, format: 'binary' });
    await drain(result.data as unknown as ReadableStream<Uint8Array>); // hashing happens as the data is read
    return await firstValidSignature(result.signatures, keys);
  } catch {
    data.destroy();
    return { valid: false };
  }
}
