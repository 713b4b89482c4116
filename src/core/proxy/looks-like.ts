// Upstream content must look like what its name says: a proxy that stored an HTML error
// page (answered with 200) as a tarball would serve a lie forever.
import { open } from 'node:fs/promises';
import type { StagedBlob } from '../../storage/blob-store.ts';
import { UpstreamUnavailable } from './upstream.ts';

const MAGIC: [RegExp, number[]][] = [
  [/\.(whl|zip|egg|jar)$/, [0x50, 0x4b]],
  [/\.(tar\.gz|tgz|gz)$/, [0x1f, 0x8b]],
  [/\.(tar\.bz2|bz2)$/, [0x42, 0x5a, 0x68]],
  [/\.(tar\.xz|xz)$/, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  [/\.(tar\.zst|zst)$/, [0x28, 0xb5, 0x2f, 0xfd]],
  [/\.deb$/, [0x21, 0x3c, 0x61, 0x72, 0x63, 0x68, 0x3e]],
];

/** The most bytes `looksLike` looks at. */
export const HEAD_BYTES = 16;

/** Throws unless `head` (the content's first bytes) can start a file called `filename`. */
export function looksLike(head: Uint8Array, filename: string, contentType: string | null): void {
  if (/text\/html/i.test(contentType ?? '') && !/\.html?$/i.test(filename)) {
    throw new UpstreamUnavailable(`upstream sent an HTML page for ${filename}; not stored`);
  }
  const magic = MAGIC.find(([re]) => re.test(filename))?.[1];
  if (magic && (head.length < magic.length || !magic.every((b, i) => head[i] === b))) {
    throw new UpstreamUnavailable(`upstream sent something that is not what ${filename} should be; not stored`);
  }
}

/** `looksLike` on a staged file. */
export async function assertLooksLike(staged: StagedBlob, filename: string, contentType: string | null): Promise<void> {
  if (!MAGIC.some(([re]) => re.test(filename))) return looksLike(Buffer.alloc(0), filename, contentType);
  const fh = await open(staged.path, 'r');
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(head, 0, HEAD_BYTES, 0);
    looksLike(head.subarray(0, bytesRead), filename, contentType);
  } finally {
    await fh.close();
  }
}
