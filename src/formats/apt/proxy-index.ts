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
  if (name === 'InRelease' && !head.startsWith('-----BEGIN PGP SIGNED MESSAGE-----')) throw invalidPackage(`upstream sent an InRelease that is not clear-signed`);
  if (name === 'Release' && !/^[A-Za-z][A-Za-z0-9-]*:/.test(head)) throw invalidPackage('upstream sent a Release file that is not a control file');
  if (/^\s*</.test(head) && !expected) throw invalidPackage(`upstream sent markup for ${key}`);
}
