// What an APT proxy reads out of its upstream's indexes: which `dists/` paths are Packages
// files, the pool files they promise (path → SHA256), and whether a fetched index file looks
// like what its name says. Pure: bytes in, values out.
import { invalidPackage } from '../../core/errors.ts';
import { detectCompression, type Compression } from '../../lib/compression.ts';
import { parseStanzas } from './control.ts';

/** `dists/<suite>/<component>/binary-<arch>/Packages[.gz|.xz|...]` (debian-installer included). */
const PACKAGES_PATH = /^dists\/.+\/binary-[^/]+\/Packages(\.(gz|xz|bz2|zst|lz4))?$/;
export const isPackagesPath = (key: string): boolean => PACKAGES_PATH.test(key);

/** By-hash files in a `binary-<arch>/` directory are Packages files (or that directory's small Release). */
export const isBinaryByHashPath = (key: string): boolean => /\/binary-[^/]+\/by-hash\//.test(key);

/** `dists/<suite>/.../by-hash/<algorithm>/<hex>`: the algorithm and digest, if the path is one. */
export function parseByHashPath(key: string): { algorithm: 'MD5Sum' | 'SHA1' | 'SHA256' | 'SHA512'; hex: string } | null {
  const m = /\/by-hash\/(MD5Sum|SHA1|SHA256|SHA512)\/([0-9a-f]+)$/.exec(key);
  if (!m) return null;
  const lengths = { MD5Sum: 32, SHA1: 40, SHA256: 64, SHA512: 128 } as const;
  const algorithm = m[1] as keyof typeof lengths;
  return m[2].length === lengths[algorithm] ? { algorithm, hex: m[2] } : null;
}

/** Pool path → SHA256 of every stanza of a (decompressed) Packages file that has both. */
export function poolHashes(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const s of parseStanzas(text)) {
    const filename = s.get('Filename');
    const sha256 = s.get('SHA256');
    if (filename && sha256 && /^[0-9a-fA-F]{64}$/.test(sha256)) out.push([filename.replace(/^\.\//, ''), sha256.toLowerCase()]);
  }
  return out;
}

const EXPECTED_COMPRESSION: Record<string, Compression> = { gz: 'gzip', xz: 'xz', bz2: 'bzip2', zst: 'zstd' };

/**
 * Throws when an upstream `dists/` file is plainly not what its name says: an HTML page, a
 * compressed file without its magic, an InRelease that is not a clear-signed message. Such a
 * body is never cached (the caller keeps serving the previous copy).
 */
export function assertDistsFileLooksRight(key: string, body: Uint8Array, contentType: string | null): void {
  const name = key.slice(key.lastIndexOf('/') + 1);
  if (/text\/html/i.test(contentType ?? '')) throw invalidPackage(`upstream sent an HTML page for ${key}`);
  const ext = /\.([a-z0-9]+)$/.exec(name)?.[1] ?? '';
  const expected = EXPECTED_COMPRESSION[ext];
  if (expected && detectCompression(body.subarray(0, 8)) !== expected) throw invalidPackage(`upstream sent ${key} without ${expected} compression`);
  const head = Buffer.from(body.subarray(0, 64)).toString('latin1');
  if (name === 'InRelease') assertReleaseText(signedText(Buffer.from(body).toString('utf8')), key);
  if (name === 'Release') assertReleaseText(Buffer.from(body).toString('utf8'), key);
  if (/^\s*</.test(head) && !expected) throw invalidPackage(`upstream sent markup for ${key}`);
}

/** The text a clear-signed InRelease signs; throws when it is not a clear-signed message. */
function signedText(text: string): string {
  const m = /^-----BEGIN PGP SIGNED MESSAGE-----\r?\n(?:[^\n]+\r?\n)*?\r?\n([\s\S]*?)\r?\n-----BEGIN PGP SIGNATURE-----[\s\S]*-----END PGP SIGNATURE-----\s*$/.exec(text);
  if (!m) throw invalidPackage('upstream sent an InRelease that is not a clear-signed message');
  return m[1].replace(/^- /gm, '');
}

/** A Release must be one control stanza that lists the indexes' digests. */
function assertReleaseText(text: string, key: string): void {
  let stanzas;
  try {
    stanzas = parseStanzas(text);
  } catch (err) {
    throw invalidPackage(`upstream sent a ${key} that does not parse: ${(err as Error).message}`);
  }
  if (!stanzas.some((s) => ['SHA256', 'SHA512', 'SHA1', 'MD5Sum'].some((h) => s.has(h)))) throw invalidPackage(`upstream sent a ${key} that lists no index digests`);
}

/** A (decompressed) Packages index: stanzas that each name a package (none at all is a valid, empty index). */
export function assertPackagesText(text: string, key: string): void {
  let stanzas;
  try {
    stanzas = parseStanzas(text);
  } catch (err) {
    throw invalidPackage(`upstream sent a ${key} that does not parse: ${(err as Error).message}`);
  }
  if (stanzas.some((s) => !s.has('Package'))) throw invalidPackage(`upstream sent a ${key} with a stanza that names no package`);
}
