// Detached signatures of large data (a pacman db is megabytes) made with Node's crypto:
// openpgp.js hashes in JavaScript, about ten times slower than OpenSSL. For the keys Wharf
// generates (v4, EdDSA/Ed25519 "legacy"), a binary-document signature (RFC 4880 §5.2.3,
// RFC 9580 legacy EdDSA) is assembled here: SHA-512 over the data and the hashed part of
// the packet, and Ed25519 over that digest, exactly what openpgp.js and gpg produce.
// Other keys (imported RSA, v6) go on through openpgp.js.
import { createHash, createPrivateKey, type Hash, sign as edSign, type KeyObject } from 'node:crypto';
import * as openpgp from 'openpgp';

export interface FastKey {
  key: KeyObject;
  /** Fingerprint of the signing (sub)key, 20 bytes. */
  fingerprint: Buffer;
  keyId: Buffer;
}

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const PUBKEY_EDDSA_LEGACY = 22;
const HASH_SHA512 = 10;
const SIGTYPE_BINARY = 0x00;

const cache = new Map<string, FastKey | null>();

/** The Node key for an armored private key, or null when the key is not v4 EdDSA legacy. */
export async function fastKeyOf(armoredPrivateKey: string): Promise<FastKey | null> {
  if (cache.has(armoredPrivateKey)) return cache.get(armoredPrivateKey)!;
  let result: FastKey | null = null;
  try {
    const priv = await openpgp.readPrivateKey({ armoredKey: armoredPrivateKey });
    const signing = await priv.getSigningKey();
    const packet = signing.keyPacket as unknown as { algorithm: number; version: number; privateParams?: { seed?: Uint8Array } };
    const seed = packet.privateParams?.seed;
    if (packet.algorithm === PUBKEY_EDDSA_LEGACY && packet.version === 4 && seed?.length === 32) {
      result = {
        key: createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' }),
        fingerprint: Buffer.from(signing.getFingerprint(), 'hex'),
        keyId: Buffer.from(signing.getKeyID().toHex(), 'hex'),
      };
    }
  } catch {
    result = null;
  }
  if (cache.size > 100) cache.clear();
  cache.set(armoredPrivateKey, result);
  return result;
}

function subpacket(type: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([data.length + 1, type]), data]);
}

function mpi(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const v = bytes.subarray(i);
  const bits = (v.length - 1) * 8 + (v[0] === 0 ? 0 : 32 - Math.clz32(v[0]));
  return Buffer.concat([Buffer.from([bits >> 8, bits & 0xff]), v]);
}

/** One signature packet (binary document, SHA-512) by `k` over `data`. */
export function signaturePacket(data: Uint8Array, k: FastKey, created = new Date()): Buffer {
  return signaturePacketOfHash(createHash('sha512').update(data), k, created);
}

/**
 * One signature packet by `k` from a SHA-512 hash already fed with the signed data (so
 * data that arrives as a stream is hashed as it goes). Finishes `hash`.
 */
export function signaturePacketOfHash(hash: Hash, k: FastKey, created = new Date()): Buffer {
  const time = Buffer.alloc(4);
  time.writeUInt32BE(Math.floor(created.getTime() / 1000));
  const hashed = Buffer.concat([subpacket(2, time), subpacket(33, Buffer.concat([Buffer.from([4]), k.fingerprint]))]);
  const hashedPart = Buffer.concat([Buffer.from([4, SIGTYPE_BINARY, PUBKEY_EDDSA_LEGACY, HASH_SHA512, hashed.length >> 8, hashed.length & 0xff]), hashed]);
  const trailer = Buffer.alloc(6);
  trailer[0] = 4;
  trailer[1] = 0xff;
  trailer.writeUInt32BE(hashedPart.length, 2);
  const digest = hash.update(hashedPart).update(trailer).digest();
  const sig = edSign(null, digest, k.key);
  const unhashed = subpacket(16, k.keyId);
  const body = Buffer.concat([
    hashedPart,
    Buffer.from([unhashed.length >> 8, unhashed.length & 0xff]), unhashed,
    digest.subarray(0, 2),
    mpi(sig.subarray(0, 32)), mpi(sig.subarray(32)),
  ]);
  // New-format packet header, tag 2 (signature); bodies here are always under 192 bytes.
  return Buffer.concat([Buffer.from([0xc0 | 2, body.length]), body]);
}

export function armorSignature(bytes: Uint8Array): string {
  return openpgp.armor(openpgp.enums.armor.signature, bytes);
}
