// OpenPGP signing for repository indexes, shared by APT (InRelease, Release.gpg) and
// Arch (.db.sig, .pkg.tar.*.sig). Keys are v4 EdDSA (Ed25519 "legacy" encoding), the
// form gpg 2.2+, apt's gpgv and sqv, and pacman's gpgme all accept; signatures use
// SHA-512 because Debian's sqv policy rejects SHA-1 and newer apt warns on weak hashes.
import * as openpgp from 'openpgp';
import { badRequest } from './errors.ts';
import { armorSignature, fastKeyOf, signaturePacket } from './signing-fast.ts';

export interface SigningKey {
  /** Unencrypted armored secret key; store it as a secret. */
  armoredPrivateKey: string;
  armoredPublicKey: string;
  /** Primary key fingerprint, upper-case hex (40 digits for a v4 key). */
  fingerprint: string;
  /** Key creation time, ISO 8601. */
  createdAt: string;
}

const SIGNING_CONFIG: openpgp.PartialConfig = {
  preferredHashAlgorithm: openpgp.enums.hash.sha512,
};

async function describe(privateKey: openpgp.PrivateKey): Promise<SigningKey> {
  return {
    armoredPrivateKey: privateKey.armor(),
    armoredPublicKey: privateKey.toPublic().armor(),
    fingerprint: privateKey.getFingerprint().toUpperCase(),
    createdAt: privateKey.getCreationTime().toISOString(),
  };
}

/** A new Ed25519 signing key (certify + sign, no encryption subkey) with the user ID `name <email>`. */
export async function generateSigningKey(options: { name: string; email: string; date?: Date }): Promise<SigningKey> {
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'ed25519Legacy',
    userIDs: [{ name: options.name, email: options.email }],
    subkeys: [],
    date: options.date,
    format: 'object',
    config: SIGNING_CONFIG,
  });
  return describe(privateKey);
}

/**
 * Load an existing armored secret key (for example one exported from gpg). A
 * passphrase-protected key is decrypted with `passphrase`; the returned key is stored
 * unencrypted. Throws `badRequest` when the text is not a usable signing key.
 */
export async function importSigningKey(armoredPrivateKey: string, passphrase?: string): Promise<SigningKey> {
  let key: openpgp.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: armoredPrivateKey });
  } catch (err) {
    throw badRequest(`not an armored OpenPGP private key: ${(err as Error).message}`);
  }
  if (!key.isDecrypted()) {
    if (passphrase === undefined) throw badRequest('the private key is protected by a passphrase');
    try {
      key = await openpgp.decryptKey({ privateKey: key, passphrase });
    } catch {
      throw badRequest('wrong passphrase for the private key');
    }
  }
  try {
    await key.getSigningKey();
  } catch (err) {
    throw badRequest(`the key cannot sign: ${(err as Error).message}`);
  }
  return describe(key);
}

async function privateKeys(keys: readonly SigningKey[]): Promise<openpgp.PrivateKey[]> {
  if (keys.length === 0) throw new TypeError('at least one signing key is required');
  return Promise.all(keys.map((k) => openpgp.readPrivateKey({ armoredKey: k.armoredPrivateKey })));
}

/**
 * A cleartext-signed copy of `text` (InRelease). With several keys, each adds a
 * signature to the same block, so clients trusting either key accept it (key rotation).
 */
export async function clearsign(text: string, keys: readonly SigningKey[]): Promise<string> {
  // gpg's layout: the text's final newline is the line end before the signature armor,
  // which OpenPGP does not count as signed text (RFC 9580, 7.1).
  const message = await openpgp.createCleartextMessage({ text: text.replace(/\r?\n$/, '') });
  const signed = await openpgp.sign({ message, signingKeys: await privateKeys(keys), config: SIGNING_CONFIG });
  // openpgp.js writes the cleartext with CRLF line ends; gpg and Debian's archive write LF.
  // Cleartext signatures are computed over canonical CRLF text, so this changes no signature.
  return signed.replace(/\r\n/g, '\n');
}

/**
 * A detached signature over `data`: armored text (Release.gpg) or binary bytes
 * (pacman's `.sig`). The signature is of binary type, over the exact bytes.
 */
export async function detachSign(data: Uint8Array, keys: readonly SigningKey[], opts: { armor: true }): Promise<string>;
export async function detachSign(data: Uint8Array, keys: readonly SigningKey[], opts: { armor: false }): Promise<Uint8Array>;
export async function detachSign(data: Uint8Array, keys: readonly SigningKey[], opts: { armor: boolean }): Promise<string | Uint8Array>;
export async function detachSign(data: Uint8Array, keys: readonly SigningKey[], opts: { armor: boolean }): Promise<string | Uint8Array> {
  if (keys.length === 0) throw new TypeError('at least one signing key is required');
  const fast = await Promise.all(keys.map((k) => fastKeyOf(k.armoredPrivateKey)));
  if (fast.every((k) => k !== null)) {
    // Several keys (rotation): a detached signature may hold several signature packets.
    const bytes = Buffer.concat(fast.map((k) => signaturePacket(data, k!)));
    return opts.armor ? armorSignature(bytes) : new Uint8Array(bytes);
  }
  const message = await openpgp.createMessage({ binary: data });
  const signingKeys = await privateKeys(keys);
  if (opts.armor) return openpgp.sign({ message, signingKeys, detached: true, format: 'armored', config: SIGNING_CONFIG });
  return openpgp.sign({ message, signingKeys, detached: true, format: 'binary', config: SIGNING_CONFIG }) as Promise<Uint8Array>;
}

/**
 * Check a detached signature (armored or binary) over `data` against the given public
 * keys. `valid` is true when at least one signature verifies; `fingerprint` is then the
 * primary fingerprint of the key that made it. Malformed input gives `{ valid: false }`.
 */
export async function verifyDetached(
  data: Uint8Array,
  signature: Uint8Array | string,
  armoredPublicKeys: readonly string[],
): Promise<{ valid: boolean; fingerprint?: string }> {
  try {
    const sig = typeof signature === 'string'
      ? await openpgp.readSignature({ armoredSignature: signature })
      : await openpgp.readSignature({ binarySignature: signature });
    const verificationKeys = (await Promise.all(armoredPublicKeys.map((armoredKeys) => openpgp.readKeys({ armoredKeys })))).flat();
    if (verificationKeys.length === 0) return { valid: false };
    const message = await openpgp.createMessage({ binary: data });
    const result = await openpgp.verify({ message, signature: sig, verificationKeys, format: 'binary' });
    return await firstValidSignature(result.signatures, verificationKeys);
  } catch {
    return { valid: false };
  }
}

/** The bytes inside one armored block (header lines and the CRC24 line dropped). */
function dearmor(armored: string): Uint8Array {
  const lines = armored.replace(/\r/g, '').split('\n');
  const begin = lines.findIndex((l) => /^-----BEGIN PGP PUBLIC KEY BLOCK-----/.test(l));
  const end = lines.findIndex((l, i) => i > begin && /^-----END PGP PUBLIC KEY BLOCK-----/.test(l));
  if (begin < 0 || end < 0) throw new TypeError('not an armored public key');
  let i = begin + 1;
  // Armor headers (`Comment: ...`) end at the first empty line, if there are any.
  if (lines.slice(i, end).some((l) => l.trim() === '')) while (lines[i].trim() !== '') i++;
  const body = lines.slice(i, end).filter((l) => l.trim() !== '' && !/^=[A-Za-z0-9+/]{4}$/.test(l.trim()));
  return new Uint8Array(Buffer.from(body.join(''), 'base64'));
}

/**
 * One armored PUBLIC KEY BLOCK holding every key's certificate, to publish as
 * `/<repo>/key.asc` while a rotation has two keys in use; gpg, apt and pacman-key
 * import all of them from it.
 */
export function publicKeysArmored(keys: readonly SigningKey[]): string {
  if (keys.length === 0) throw new TypeError('at least one key is required');
  const parts = keys.map((k) => dearmor(k.armoredPublicKey));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    bytes.set(p, offset);
    offset += p.length;
  }
  // gpg 2.2 refuses an armored key block without the CRC24 line.
  return openpgp.armor(openpgp.enums.armor.publicKey, bytes, undefined, undefined, undefined, true);
}

/** The first signature of a verification that checks out, and which of `keys` made it. */
export async function firstValidSignature(
  signatures: readonly { keyID: openpgp.KeyID; verified: Promise<unknown> }[],
  keys: readonly openpgp.Key[],
): Promise<{ valid: boolean; fingerprint?: string }> {
  for (const s of signatures) {
    try {
      await s.verified;
    } catch {
      continue;
    }
    const key = keys.find((k) => k.getKeys(s.keyID).length > 0);
    return { valid: true, fingerprint: key?.getFingerprint().toUpperCase() };
  }
  return { valid: false };
}
