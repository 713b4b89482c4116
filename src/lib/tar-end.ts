// A tar archive ends with two zero blocks (POSIX); every writer (GNU tar, bsdtar, dpkg-deb,
// Python's tarfile, tar-stream) emits them. An archive cut at an entry boundary decodes
// without error but silently lacks its later entries: the missing end marks it.
import { Transform } from 'node:stream';

const END_BYTES = 1024;

/** Pass a decompressed tar through unchanged; fail at its end unless it ends in 1024 zero bytes. */
export function requireTarEnd(): Transform {
  let tail: Buffer = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      tail = chunk.length >= END_BYTES ? chunk.subarray(chunk.length - END_BYTES) : Buffer.concat([tail, chunk]).subarray(-END_BYTES);
      cb(null, chunk);
    },
    flush(cb) {
      if (tail.length < END_BYTES || tail.some((b) => b !== 0)) cb(new Error('the tar archive ends without its end-of-archive blocks (truncated)'));
      else cb();
    },
  });
}
