// A proxied db and its detached signature, kept as ONE cached upstream entry: pacman checks
// the `.sig` against the db bytes, so the two must always come from the same refresh.
// Layout: u32 header length, JSON header, db bytes, signature bytes.

export interface DbPair {
  db: Uint8Array;
  /** Null when the upstream has no signature for the db. */
  sig: Uint8Array | null;
  /**
   * When these bytes became current (ms, whole seconds): the Last-Modified served for both.
   * It only moves forward, so pacman's If-Modified-Since never mistakes a new db for the old.
   */
  generation: number;
}

interface Header {
  v: 1;
  dbLength: number;
  sigLength: number | null;
  generation: number;
}

export function encodeDbPair(pair: DbPair): Uint8Array {
  const header: Header = { v: 1, dbLength: pair.db.length, sigLength: pair.sig ? pair.sig.length : null, generation: pair.generation };
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(json.length);
  return Buffer.concat([len, json, pair.db, ...(pair.sig ? [pair.sig] : [])]);
}

/** The pair in an encoded entry; throws on bytes that are not one (a programming error). */
export function decodeDbPair(body: Uint8Array): DbPair {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const jsonLength = buf.readUInt32BE(0);
  const header = JSON.parse(buf.subarray(4, 4 + jsonLength).toString()) as Header;
  if (header.v !== 1) throw new Error(`unknown db pair version ${String(header.v)}`);
  const start = 4 + jsonLength;
  const db = buf.subarray(start, start + header.dbLength);
  const sig = header.sigLength === null ? null : buf.subarray(start + header.dbLength, start + header.dbLength + header.sigLength);
  if (db.length !== header.dbLength || (sig && sig.length !== header.sigLength)) throw new Error('truncated db pair');
  return { db, sig, generation: header.generation };
}

const wholeSeconds = (ms: number) => Math.floor(ms / 1000) * 1000;
const sameBytes = (a: Uint8Array | null, b: Uint8Array | null) => (a === null || b === null ? a === b : Buffer.from(a).equals(b));

/**
 * The generation of freshly fetched bytes: unchanged bytes keep the previous one; changed
 * bytes take the upstream's Last-Modified (or `now`), but always at least a second after the
 * previous generation, since HTTP dates have whole seconds.
 */
export function nextGeneration(prev: DbPair | undefined, db: Uint8Array, sig: Uint8Array | null, upstreamLastModified: string | null, now: number): number {
  if (prev && sameBytes(prev.db, db) && sameBytes(prev.sig, sig)) return prev.generation;
  const upstream = upstreamLastModified ? Date.parse(upstreamLastModified) : Number.NaN;
  const candidate = wholeSeconds(Number.isNaN(upstream) ? now : upstream);
  return prev ? Math.max(candidate, wholeSeconds(prev.generation) + 1000) : candidate;
}
