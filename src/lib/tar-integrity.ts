// Checks on untrusted tar archives beyond what tar-stream enforces, so that Wharf accepts
// only archives that GNU tar, bsdtar, dpkg and Python's tarfile read the same way: tar-stream
// is lenient (it skips lone zero blocks, reads unknown types as data, ignores a directory's
// size and malformed pax records), and a package that Wharf reads one way and a client
// another is a package the client cannot use.
import { Transform } from 'node:stream';

const BLOCK = 512;
// Types whose entries carry data blocks, and those that never do.
const DATA_TYPES = new Set(['0', '\0', '7']);
const NO_DATA_TYPES = new Set(['1', '2', '3', '4', '5', '6']);
// Headers that describe the next entry (pax, GNU long names): their data is read and checked.
const META_TYPES = new Set(['x', 'g', 'L', 'K']);

function parseNumber(field: Buffer): number | null {
  if (field[0] & 0x80) {
    // base-256 (GNU): positive only, and it must fit a safe integer.
    if (field[0] !== 0x80) return null;
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i];
    return Number.isSafeInteger(n) ? n : null;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return null;
  return parseInt(text, 8);
}

function checksumMatches(header: Buffer): boolean {
  const stored = parseNumber(header.subarray(148, 156));
  if (stored === null) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : header[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** Pax records: `<length> <key>=<value>\n`, each length exact. */
function paxProblem(data: Buffer): string | null {
  let at = 0;
  while (at < data.length) {
    if (data[at] === 0 && data.subarray(at).every((b) => b === 0)) return null; // padding some writers leave
    const space = data.indexOf(0x20, at);
    if (space < 0) return 'a pax record has no length';
    const lengthText = data.toString('latin1', at, space);
    if (!/^[1-9][0-9]*$/.test(lengthText)) return 'a pax record has a malformed length';
    const length = Number(lengthText);
    if (at + length > data.length || data[at + length - 1] !== 0x0a) return 'a pax record overruns its header';
    if (data.indexOf(0x3d, space) < 0 || data.indexOf(0x3d, space) > at + length - 1) return 'a pax record has no "="';
    at += length;
  }
  return null;
}

/**
 * Pass a decompressed tar through unchanged while checking its structure: header checksums,
 * sizes, known entry types, no data on entries that have none, well-formed pax and long-name
 * headers, no entries after a zero block, and the end-of-archive blocks every writer emits
 * (an archive cut at an entry boundary otherwise reads as a shorter, valid one).
 */
export function validateTar(): Transform {
  let pending: Buffer = Buffer.alloc(0); // an incomplete header, or a meta entry's data
  let skip = 0; // data bytes (with padding) of the current entry still to pass
  let meta: { type: string; size: number; padded: number } | null = null;
  let zeroBlocks = 0;
  let ended = false;
  // A pax or long-name header describes the entry after it: one must follow.
  let describing = false;
  let offset = 0;

  const header = (h: Buffer): string | null => {
    if (h.every((b) => b === 0)) {
      if (describing) return `an extended header at byte ${offset - BLOCK} describes no entry`;
      zeroBlocks++;
      if (zeroBlocks === 2) ended = true;
      return null;
    }
    if (zeroBlocks > 0) return `an entry follows a zero block at byte ${offset - BLOCK}`;
    if (!checksumMatches(h)) return `bad header checksum at byte ${offset}`;
    const size = parseNumber(h.subarray(124, 136));
    if (size === null) return `bad size field at byte ${offset}`;
    const type = String.fromCharCode(h[156]);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    describing = META_TYPES.has(type) && type !== 'g';
    if (META_TYPES.has(type)) {
      if (size > 1024 * 1024) return `an extended header of ${size} bytes at byte ${offset}`;
      meta = { type, size, padded };
    } else if (NO_DATA_TYPES.has(type)) {
      if (size !== 0) return `an entry of type ${type} claims ${size} bytes of data at byte ${offset}`;
    } else if (DATA_TYPES.has(type)) {
      skip = padded;
    } else {
      return `unknown entry type ${JSON.stringify(type)} at byte ${offset}`;
    }
    return null;
  };

  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      let at = 0;
      while (at < chunk.length && !ended) {
        if (skip > 0) {
          const n = Math.min(skip, chunk.length - at);
          skip -= n;
          at += n;
          offset += n;
          continue;
        }
        const want = meta ? meta.padded : BLOCK;
        const n = Math.min(want - pending.length, chunk.length - at);
        pending = Buffer.concat([pending, chunk.subarray(at, at + n)]);
        at += n;
        offset += n;
        if (pending.length < want) break;
        const block = pending;
        pending = Buffer.alloc(0);
        if (meta) {
          const m = meta;
          meta = null;
          const data = block.subarray(0, m.size);
          if ((m.type === 'x' || m.type === 'g') && paxProblem(data)) return cb(new Error(`${paxProblem(data)} (at byte ${offset - m.padded})`));
          if ((m.type === 'L' || m.type === 'K') && data.subarray(0, data.indexOf(0) < 0 ? data.length : data.indexOf(0)).length === 0) return cb(new Error(`an empty long name at byte ${offset - m.padded}`));
          continue;
        }
        const problem = header(block);
        if (problem) return cb(new Error(problem));
      }
      cb(null, chunk);
    },
    flush(cb) {
      if (!ended) cb(new Error('the tar archive ends without its end-of-archive blocks (truncated)'));
      else cb();
    },
  });
}

// Entries without data: tar-stream ignores a directory's size, other readers skip that many
// bytes, so a non-zero size makes them see different archives.
const NO_DATA = new Set(['directory', 'symlink', 'link', 'character-device', 'block-device', 'fifo']);

/** Why an entry, as tar-stream decoded it, is not one every reader agrees on; or null. */
export function tarEntryProblem(header: { name: string; type: string | null; size?: number }): string | null {
  const size = header.size ?? 0;
  if (header.name === '') return 'an entry has an empty name';
  // tar-stream reads a type it does not know as plain data; bsdtar and GNU tar may not.
  if (header.type === null) return `entry ${JSON.stringify(header.name)} has an unknown type`;
  // The archive's root ('.', './') is a directory to every extractor; anything else there fails.
  if (/^(\.?\/)*\.?$/.test(header.name) && header.type !== 'directory') return `the root entry ${JSON.stringify(header.name)} is not a directory`;
  // dpkg, bsdtar and pip refuse (or strip) names that climb out of where they extract.
  if (header.name.split('/').includes('..')) return `entry ${JSON.stringify(header.name)} climbs out of the archive with '..'`;
  if (!Number.isSafeInteger(size) || size < 0) return `entry ${JSON.stringify(header.name)} has an impossible size`;
  if (header.type !== null && NO_DATA.has(header.type) && size !== 0) return `${header.type} entry ${JSON.stringify(header.name)} claims ${size} bytes of data`;
  return null;
}
