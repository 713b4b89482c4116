// A small seeded fuzzer for Wharf's inputs: mutants of valid packages (bit flips,
// truncations, lying sizes in zip, ar and tar headers), path traversal in every encoding on
// every path-taking route, malformed multipart bodies and odd Range headers. The same seed
// gives the same cases (the corpus is built byte-for-byte the same), so a failure is rerun
// with WHARF_FUZZ_SEED.
import { execFileSync } from 'node:child_process';
import zlib from 'node:zlib';
import { arOf, type Sample } from './fuzz-corpus.ts';

/** mulberry32: tiny, fast, good enough to pick mutations. */
export class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

export interface FuzzRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  /** Sent exactly as written (no normalisation of `..` or `%2e`). */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export type CaseKind = 'upload' | 'multipart' | 'traversal' | 'range';

export interface FuzzCase {
  id: number;
  kind: CaseKind;
  /** What was done, enough to recognise the case in a report. */
  what: string;
  request: FuzzRequest;
  /** For range cases: the bytes the target holds. */
  expect?: Buffer;
}

// ---------- generic mutations ----------

function flipBits(b: Buffer, rng: Rng, region?: [number, number]): [Buffer, string] {
  const out = Buffer.from(b);
  const n = 1 + rng.int(rng.chance(0.7) ? 2 : 8);
  const [lo, hi] = region ?? [0, out.length];
  const at: number[] = [];
  for (let i = 0; i < n && hi > lo; i++) {
    const pos = lo + rng.int(hi - lo);
    out[pos] ^= 1 << rng.int(8);
    at.push(pos);
  }
  return [out, `flip bits at ${at.join(',')}`];
}

function truncate(b: Buffer, rng: Rng): [Buffer, string] {
  const cut = rng.chance(0.2) ? b.length - 1 - rng.int(Math.min(16, b.length)) : rng.int(b.length);
  return [b.subarray(0, cut), `truncate to ${cut} of ${b.length}`];
}

function garble(b: Buffer, rng: Rng): [Buffer, string] {
  const out = Buffer.from(b);
  const start = rng.int(out.length);
  const len = Math.min(out.length - start, 1 + rng.int(64));
  if (rng.chance(0.5)) out.fill(0, start, start + len);
  else rng.bytes(len).copy(out, start);
  return [out, `garble ${len} bytes at ${start}`];
}

// ---------- lying sizes ----------

function lieAbout(value: number, rng: Rng): number {
  return rng.pick([0, 1, Math.max(0, value - 1), value + 1, value * 2 + 7, 0xffffffff, 0x7fffffff, rng.int(0x100000000), value + 65536]) >>> 0;
}

/** Lie in one field of a zip's central directory, local header or end record. */
export function zipLie(b: Buffer, rng: Rng): [Buffer, string] {
  const out = Buffer.from(b);
  let eocd = -1;
  for (let i = out.length - 22; i >= Math.max(0, out.length - 22 - 65535); i--) {
    if (out.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) return flipBits(b, rng);
  const entries: number[] = [];
  for (let p = out.readUInt32LE(eocd + 16), n = out.readUInt16LE(eocd + 10); n > 0 && p + 46 <= eocd && out.readUInt32LE(p) === 0x02014b50; n--) {
    entries.push(p);
    p += 46 + out.readUInt16LE(p + 28) + out.readUInt16LE(p + 30) + out.readUInt16LE(p + 32);
  }
  const field = rng.pick(['crc', 'csize', 'usize', 'offset', 'namelen', 'eocd-count', 'eocd-cdsize', 'eocd-cdoffset', 'method']);
  if (field.startsWith('eocd-')) {
    const off = { 'eocd-count': 10, 'eocd-cdsize': 12, 'eocd-cdoffset': 16 }[field]!;
    if (off === 10) out.writeUInt16LE(lieAbout(out.readUInt16LE(off + eocd), rng) & 0xffff, eocd + off);
    else out.writeUInt32LE(lieAbout(out.readUInt32LE(eocd + off), rng), eocd + off);
    return [out, `zip ${field} lies`];
  }
  if (entries.length === 0) return flipBits(b, rng);
  const ce = rng.pick(entries);
  const local = out.readUInt32LE(ce + 42);
  const name = out.toString('utf8', ce + 46, ce + 46 + out.readUInt16LE(ce + 28));
  const where = rng.pick(['central', 'local', 'both']);
  const hasLocal = local + 30 <= out.length && out.readUInt32LE(local) === 0x04034b50;
  const put32 = (centralOff: number, localOff: number) => {
    const v = lieAbout(out.readUInt32LE(ce + centralOff), rng);
    if (where !== 'local') out.writeUInt32LE(v, ce + centralOff);
    if (where !== 'central' && hasLocal) out.writeUInt32LE(v, local + localOff);
  };
  switch (field) {
    case 'crc': put32(16, 14); break;
    case 'csize': put32(20, 18); break;
    case 'usize': put32(24, 22); break;
    case 'offset': out.writeUInt32LE(lieAbout(local, rng), ce + 42); break;
    case 'namelen': out.writeUInt16LE(lieAbout(out.readUInt16LE(ce + 28), rng) & 0xffff, ce + 28); break;
    case 'method': out.writeUInt16LE(rng.pick([1, 9, 12, 14, 99, 0xffff]), ce + 10); break;
  }
  return [out, `zip ${field} of ${name} lies (${where})`];
}

function arHeaders(b: Buffer): number[] {
  const at: number[] = [];
  for (let pos = 8; pos + 60 <= b.length;) {
    at.push(pos);
    const size = parseInt(b.toString('latin1', pos + 48, pos + 58).trim(), 10);
    if (!Number.isFinite(size)) break;
    pos += 60 + size + (size % 2);
  }
  return at;
}

/** Lie in an ar member header's decimal size. */
export function arLie(b: Buffer, rng: Rng): [Buffer, string] {
  const out = Buffer.from(b);
  const headers = arHeaders(out);
  if (headers.length === 0) return flipBits(b, rng);
  const h = rng.pick(headers);
  const size = parseInt(out.toString('latin1', h + 48, h + 58).trim(), 10);
  const lie = rng.pick([String(size + 1), String(Math.max(0, size - 1)), '0', '9999999999', '-1', 'abc', String(size * 2), '', String(size + 60), ' 12 34']);
  out.write(lie.padEnd(10).slice(0, 10), h + 48, 'latin1');
  return [out, `ar member at ${h} claims size ${JSON.stringify(lie)} (really ${size})`];
}

function tarHeaders(t: Buffer): number[] {
  const at: number[] = [];
  for (let pos = 0; pos + 512 <= t.length;) {
    if (t.subarray(pos, pos + 512).every((x) => x === 0)) break;
    at.push(pos);
    const size = parseInt(t.toString('latin1', pos + 124, pos + 136).replace(/\0.*$/, '').trim() || '0', 8);
    if (!Number.isFinite(size)) break;
    pos += 512 + Math.ceil(size / 512) * 512;
  }
  return at;
}

function fixTarChecksum(t: Buffer, pos: number): void {
  t.fill(0x20, pos + 148, pos + 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += t[pos + i];
  t.write(`${sum.toString(8).padStart(6, '0')}\0 `, pos + 148, 'latin1');
}

/** Lie in a tar header (size, type, name, checksum), or cut the tar at an entry boundary. */
export function tarLie(t: Buffer, rng: Rng): [Buffer, string] {
  const headers = tarHeaders(t);
  if (headers.length === 0) return flipBits(t, rng);
  const h = rng.pick(headers);
  const name = t.toString('latin1', h, h + 100).replace(/\0.*$/s, '');
  const kind = rng.pick(['size', 'size', 'size', 'base256', 'type', 'name', 'checksum', 'boundary']);
  if (kind === 'boundary') return [t.subarray(0, h), `tar cut before entry ${name} (no end blocks)`];
  const out = Buffer.from(t);
  let what = '';
  const size = parseInt(out.toString('latin1', h + 124, h + 136).replace(/\0.*$/, '').trim() || '0', 8);
  if (kind === 'size') {
    const lie = rng.pick([size + 1, size + 512, Math.max(0, size - 1), 0, 0o77777777777, size * 3 + 1000, rng.int(1 << 30)]);
    out.write(`${lie.toString(8).padStart(11, '0')}\0`, h + 124, 'latin1');
    what = `tar size of ${name} says ${lie} (really ${size})`;
  } else if (kind === 'base256') {
    out.fill(0, h + 124, h + 136);
    out[h + 124] = 0x80;
    out.writeUInt32BE(rng.int(0x100000000), h + 132);
    out[h + 128] = rng.int(256);
    what = `tar size of ${name} in base-256, huge`;
  } else if (kind === 'type') {
    const type = rng.pick(['1', '2', '3', '4', '5', '6', '7', 'g', 'x', 'L', 'K', 'S', 'A', '\0']);
    out.write(type, h + 156, 'latin1');
    what = `tar type of ${name} is ${JSON.stringify(type)}`;
  } else if (kind === 'name') {
    const evil = rng.pick(['../../fuzzescape', '/etc/fuzzescape', '.PKGINFO', './control', 'a/../../fuzzescape', '\\..\\fuzzescape', '']);
    out.fill(0, h, h + 100);
    out.write(evil, h, 'latin1');
    what = `tar name of ${name} is ${JSON.stringify(evil)}`;
  } else {
    out[h + 148 + rng.int(6)] ^= 0x01;
    return [out, `tar checksum of ${name} wrong`];
  }
  const fix = rng.chance(0.8);
  if (fix) fixTarChecksum(out, h);
  return [out, `${what}${fix ? '' : ', checksum not fixed'}`];
}

// ---------- containers ----------

type Codec = 'gzip' | 'zstd' | 'xz' | 'none';

function decompress(codec: Codec, b: Buffer): Buffer {
  if (codec === 'gzip') return zlib.gunzipSync(b);
  if (codec === 'zstd') return zlib.zstdDecompressSync(b);
  if (codec === 'xz') return execFileSync('xz', ['-dc'], { input: b, maxBuffer: 1 << 28 });
  return b;
}

function compress(codec: Codec, b: Buffer): Buffer {
  if (codec === 'gzip') return zlib.gzipSync(b);
  if (codec === 'zstd') return zlib.zstdCompressSync(b);
  if (codec === 'xz') return execFileSync('xz', ['-c', '-1'], { input: b, maxBuffer: 1 << 28 });
  return b;
}

function codecOfName(name: string): Codec {
  return name.endsWith('.gz') ? 'gzip' : name.endsWith('.xz') ? 'xz' : name.endsWith('.zst') ? 'zstd' : 'none';
}

/** Mutate the tar inside a compressed tar, then compress it again: the tar parser is what meets the lie. */
function innerTar(b: Buffer, codec: Codec, rng: Rng): [Buffer, string] {
  const inner = decompress(codec, b);
  const [mutated, what] = rng.chance(0.8) ? tarLie(inner, rng) : rng.chance(0.5) ? truncate(inner, rng) : flipBits(inner, rng);
  return [compress(codec, mutated), `inner tar (${codec}): ${what}`];
}

function arMembers(b: Buffer): { name: string; data: Buffer }[] {
  return arHeaders(b).map((h) => {
    const size = parseInt(b.toString('latin1', h + 48, h + 58).trim(), 10);
    return { name: b.toString('latin1', h, h + 16).trim().replace(/\/$/, ''), data: b.subarray(h + 60, h + 60 + size) };
  });
}

function debMutant(b: Buffer, rng: Rng): [Buffer, string] {
  const kind = rng.pick(['ar-lie', 'member-tar', 'member-tar', 'member-flip', 'member-truncate']);
  if (kind === 'ar-lie') return arLie(b, rng);
  const members = arMembers(b);
  const i = 1 + rng.int(members.length - 1);
  const m = members[i];
  let data: Buffer;
  let what: string;
  if (kind === 'member-tar') [data, what] = innerTar(m.data, codecOfName(m.name), rng);
  else if (kind === 'member-flip') [data, what] = flipBits(m.data, rng);
  else [data, what] = truncate(m.data, rng);
  members[i] = { name: m.name, data };
  return [arOf(members), `${m.name}: ${what} (ar sizes kept true)`];
}

/** One mutant of a valid sample: generic damage or a structure-aware lie. */
export function mutate(sample: Sample, rng: Rng): [Buffer, string] {
  const b = sample.bytes;
  const r = rng.next();
  if (r < 0.25) return flipBits(b, rng);
  if (r < 0.35) return flipBits(b, rng, [0, Math.min(b.length, 600)]);
  if (r < 0.5) return truncate(b, rng);
  if (r < 0.55) return garble(b, rng);
  if (r < 0.6) {
    const [once] = flipBits(b, rng);
    const [twice, what] = truncate(once, rng);
    return [twice, `flip and ${what}`];
  }
  switch (sample.container) {
    case 'zip': return zipLie(b, rng);
    case 'deb': return debMutant(b, rng);
    case 'tar': return tarLie(b, rng);
    case 'tar.gz': return innerTar(b, 'gzip', rng);
    case 'tar.zst': return innerTar(b, 'zstd', rng);
    case 'tar.xz': return innerTar(b, 'xz', rng);
  }
}

// ---------- requests ----------

export interface FuzzTargets {
  auth: string;
  /** A stored file of the files repository and its bytes, for Range cases. */
  rangeTarget: { path: string; bytes: Buffer };
}

const CRLF = '\r\n';

export function multipartBody(boundary: string, parts: { name: string; filename?: string; data: Buffer | string; headers?: string[] }[], end = true): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disp = `Content-Disposition: form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    const head = [`--${boundary}`, ...(p.headers ?? [disp, ...(p.filename !== undefined ? ['Content-Type: application/octet-stream'] : [])])].join(CRLF);
    chunks.push(Buffer.from(head + CRLF + CRLF, 'latin1'), Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data), Buffer.from(CRLF));
  }
  if (end) chunks.push(Buffer.from(`--${boundary}--${CRLF}`));
  return Buffer.concat(chunks);
}

function uploadRequest(sample: Sample, bytes: Buffer, auth: string, rng: Rng, filename = sample.filename): FuzzRequest {
  const headers = { authorization: auth };
  if (rng.chance(0.2)) {
    const repo = { pypi: 'pypi', apt: 'deb', arch: 'arch' }[sample.format];
    return { method: 'POST', path: `/-/api/v1/repositories/${repo}/upload?filename=${encodeURIComponent(filename)}`, headers: { ...headers, 'content-type': 'application/octet-stream' }, body: bytes };
  }
  if (sample.format === 'pypi') {
    const boundary = `fuzz${rng.int(1e9)}`;
    const fields = Object.entries(sample.fields ?? {}).map(([name, data]) => ({ name, data }));
    return { method: 'POST', path: '/pypi/', headers: { ...headers, 'content-type': `multipart/form-data; boundary=${boundary}` }, body: multipartBody(boundary, [...fields, { name: 'content', filename, data: bytes }]) };
  }
  if (sample.format === 'apt') return { method: 'PUT', path: `/deb/upload/stable/main/${encodeURIComponent(filename)}`, headers, body: bytes };
  return { method: 'PUT', path: `/arch/upload/${encodeURIComponent(filename)}`, headers, body: bytes };
}

const MULTIPART_ROUTES: { path: string; format: Sample['format'] }[] = [
  { path: '/pypi/', format: 'pypi' }, { path: '/pypi/legacy/', format: 'pypi' },
  { path: '/deb/upload/stable/main/', format: 'apt' }, { path: '/arch/upload/', format: 'arch' },
];

function multipartCase(corpus: Sample[], t: FuzzTargets, rng: Rng): { what: string; request: FuzzRequest } {
  const route = rng.pick(MULTIPART_ROUTES);
  const sample = rng.pick(corpus.filter((s) => s.format === route.format));
  const boundary = `----fuzz${rng.int(1e9)}`;
  const fields = Object.entries(sample.fields ?? {}).map(([name, data]) => ({ name, data }));
  const file = { name: route.format === 'pypi' ? 'content' : 'file', filename: sample.filename, data: sample.bytes };
  const good = () => multipartBody(boundary, [...fields, file]);
  const ct = `multipart/form-data; boundary=${boundary}`;
  const variants: [string, () => { type: string; body: Buffer }][] = [
    ['no boundary', () => ({ type: 'multipart/form-data', body: good() })],
    ['wrong boundary', () => ({ type: 'multipart/form-data; boundary=nope', body: good() })],
    ['empty boundary', () => ({ type: 'multipart/form-data; boundary=', body: good() })],
    ['boundary of 300 characters', () => ({ type: `multipart/form-data; boundary=${'b'.repeat(300)}`, body: multipartBody('b'.repeat(300), [file]) })],
    ['truncated', () => { const b = good(); return { type: ct, body: b.subarray(0, rng.int(b.length)) }; }],
    ['no closing boundary', () => ({ type: ct, body: multipartBody(boundary, [...fields, file], false) })],
    ['empty body', () => ({ type: ct, body: Buffer.alloc(0) })],
    ['huge part header', () => ({ type: ct, body: multipartBody(boundary, [{ ...file, headers: [`Content-Disposition: form-data; name="content"; filename="${sample.filename}"`, `X-Big: ${'h'.repeat(100_000 + rng.int(200_000))}`] }]) })],
    ['300 part headers', () => ({ type: ct, body: multipartBody(boundary, [{ ...file, headers: [`Content-Disposition: form-data; name="content"; filename="${sample.filename}"`, ...Array.from({ length: 300 }, (_, i) => `X-H${i}: v`)] }]) })],
    ['duplicate fields that disagree', () => ({ type: ct, body: multipartBody(boundary, [...fields, { name: 'name', data: 'other-project' }, { name: 'version', data: '9.9' }, { name: 'sha256_digest', data: '0'.repeat(64) }, file]) })],
    ['two file parts', () => ({ type: ct, body: multipartBody(boundary, [...fields, file, { ...file, data: rng.bytes(100) }]) })],
    ['file part without Content-Disposition', () => ({ type: ct, body: multipartBody(boundary, [{ ...file, headers: ['Content-Type: application/octet-stream'] }]) })],
    ['a path as the file name', () => ({ type: ct, body: multipartBody(boundary, [...fields, { ...file, filename: rng.pick(['../../fuzzescape.whl', '..\\..\\fuzzescape', '/etc/fuzzescape', `sub/${sample.filename}`, `..%2f${sample.filename}`, `${sample.filename}\u0000.txt`, '']) }]) })],
    ['no file part', () => ({ type: ct, body: multipartBody(boundary, fields) })],
    ['prototype field names', () => ({ type: ct, body: multipartBody(boundary, [{ name: '__proto__', data: 'x' }, { name: 'constructor', data: 'y' }, ...fields, file]) })],
    ['too many fields', () => ({ type: ct, body: multipartBody(boundary, [...Array.from({ length: 250 }, (_, i) => ({ name: `f${i}`, data: 'v' })), file]) })],
    ['LF line ends', () => ({ type: ct, body: Buffer.from(good().toString('latin1').replace(/\r\n/g, '\n'), 'latin1') })],
    ['a field of 2 MiB', () => ({ type: ct, body: multipartBody(boundary, [{ name: 'description', data: 'd'.repeat(2 * 1024 * 1024) }, ...fields, file]) })],
    ['garbage between parts', () => { const b = good(); const at = rng.int(b.length); return { type: ct, body: Buffer.concat([b.subarray(0, at), rng.bytes(1 + rng.int(200)), b.subarray(at)]) }; }],
    ['multipart/mixed inside', () => ({ type: ct, body: multipartBody(boundary, [...fields, { ...file, headers: [`Content-Disposition: form-data; name="${file.name}"`, 'Content-Type: multipart/mixed; boundary=inner'], data: multipartBody('inner', [file]) }]) })],
    ['content-type with a charset and quotes', () => ({ type: `multipart/form-data; charset=utf-8; boundary="${boundary}"`, body: good() })],
  ];
  const [what, make] = rng.pick(variants);
  const { type, body } = make();
  return { what: `${route.path} ${what}`, request: { method: 'POST', path: route.path, headers: { authorization: t.auth, 'content-type': type }, body } };
}

const DOTS = ['..', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '%252e%252e', '%c0%ae%c0%ae', '%e0%80%ae%e0%80%ae', '%uff0e%uff0e', '..%00', '%2e%2e%00', '...', '.'];
const SLASHES = ['/', '%2f', '%2F', '%5c', '%5C', '\\', '%252f', '%c0%af', '%e0%80%af', '%ef%bc%8f', '%00/', '//'];
const ODD = ['%', '%zz', '%c0', '%ff%fe', '%00', 'a%00b', '%0d%0aX-Injected:%20yes', 'a'.repeat(300), '%e9', 'é', '~', ';x=1', '%3b', '?', '#x', '%23', '%3f'];

function traversalPayload(rng: Rng): string {
  if (rng.chance(0.2)) return rng.pick(ODD);
  const parts: string[] = [];
  for (let i = 1 + rng.int(4); i > 0; i--) parts.push(rng.pick(DOTS));
  const sep = rng.pick(SLASHES);
  return parts.join(sep) + sep + rng.pick(['fuzzescape', 'etc%2fpasswd', 'fuzzescape.whl', 'fuzzescape_1.0-1_amd64.deb', 'fuzzescape-1-1-any.pkg.tar.zst', '']);
}

type RouteTemplate = [FuzzRequest['method'], string, 'none' | 'bytes' | 'deb' | 'arch'];

const TRAVERSAL_ROUTES: RouteTemplate[] = [
  ['GET', '/files/{p}', 'none'], ['GET', '/files/{p}/', 'none'], ['GET', '/files/dir/{p}', 'none'], ['HEAD', '/files/{p}', 'none'],
  ['GET', '/pypi/simple/{p}/', 'none'], ['GET', '/pypi/packages/{p}/{p}', 'none'], ['GET', '/pypi/packages/fuzzdemo/{p}', 'none'],
  ['GET', '/pypi/pypi/{p}/json', 'none'], ['GET', '/pypi/pypi/fuzzdemo/{p}/json', 'none'], ['GET', '/pypi/{p}', 'none'],
  ['GET', '/deb/dists/{p}', 'none'], ['GET', '/deb/dists/stable/{p}', 'none'], ['GET', '/deb/pool/{p}', 'none'], ['GET', '/deb/{p}', 'none'],
  ['GET', '/arch/{p}/{p}', 'none'], ['GET', '/arch/any/{p}', 'none'], ['GET', '/arch/{p}/fuzz.db', 'none'],
  ['GET', '/{p}/', 'none'], ['GET', '/{p}/simple/', 'none'], ['GET', '/-/{p}', 'none'],
  ['GET', '/-/api/v1/repositories/{p}', 'none'], ['GET', '/-/api/v1/repositories/files/files?prefix={p}', 'none'], ['GET', '/-/api/v1/repositories/pypi/packages/{p}', 'none'],
  ['PUT', '/files/{p}', 'bytes'], ['PUT', '/files/dir/{p}', 'bytes'], ['PUT', '/files/{p}/x.bin', 'bytes'],
  ['PUT', '/deb/upload/{p}/main/', 'deb'], ['PUT', '/deb/upload/stable/{p}/', 'deb'], ['PUT', '/deb/upload/stable/main/{p}', 'deb'],
  ['PUT', '/arch/upload/{p}', 'arch'],
  ['DELETE', '/files/{p}', 'none'], ['DELETE', '/-/api/v1/repositories/files/files/{p}', 'none'], ['DELETE', '/-/api/v1/repositories/pypi/packages/{p}', 'none'],
  ['POST', '/-/api/v1/repositories/files/upload?filename={p}', 'bytes'], ['POST', '/-/api/v1/repositories/files/upload?filename=x.bin&path={p}', 'bytes'],
  ['POST', '/-/api/v1/repositories/files/upload?filename=x.bin&dir={p}', 'bytes'],
  ['POST', '/-/api/v1/repositories/deb/upload?filename=x.deb&component={p}', 'deb'], ['POST', '/-/api/v1/repositories/deb/upload?filename=x.deb&suite={p}', 'deb'],
  ['POST', '/-/api/v1/repositories/arch/upload?filename={p}', 'arch'],
];

function traversalCase(corpus: Sample[], t: FuzzTargets, rng: Rng): { what: string; request: FuzzRequest } {
  const [method, template, bodyKind] = rng.pick(TRAVERSAL_ROUTES);
  let path = template;
  while (path.includes('{p}')) path = path.replace('{p}', traversalPayload(rng));
  const headers: Record<string, string> = { authorization: t.auth };
  let body: Buffer | undefined;
  if (bodyKind === 'bytes') body = rng.bytes(64);
  if (bodyKind === 'deb') body = rng.pick(corpus.filter((s) => s.format === 'apt')).bytes;
  if (bodyKind === 'arch') body = rng.pick(corpus.filter((s) => s.format === 'arch')).bytes;
  if (method === 'POST' && body) headers['content-type'] = 'application/octet-stream';
  return { what: `${method} ${path}`, request: { method, path, headers, body } };
}

function rangeValue(size: number, rng: Rng): string {
  const n = () => String(rng.pick([0, 1, size - 1, size, size + 1, rng.int(size), rng.int(size * 2)]));
  const big = () => rng.pick(['99999999999999999999', '18446744073709551616', '9007199254740993', '1e3', '0x10', '-5', '00000000000000000001']);
  return rng.pick([
    () => `bytes=${n()}-${n()}`, () => `bytes=${n()}-`, () => `bytes=-${n()}`, () => `bytes=${big()}-`, () => `bytes=0-${big()}`, () => `bytes=-${big()}`,
    () => `bytes=${n()}-${n()},${n()}-${n()}`, () => `bytes=${'0-0,'.repeat(1000)}0-0`, () => 'bytes=-', () => 'bytes=', () => 'bytes', () => '',
    () => `items=0-${n()}`, () => `BYTES=0-${n()}`, () => `bytes = ${n()} - ${n()}`, () => `bytes=${n()}-${n()}-${n()}`, () => 'bytes=\u00ff-\u00fe',
    () => `bytes=${n()}--${n()}`, () => `bytes=0-0, -1`, () => `bytes=${n()}`,
  ])();
}

function rangeCase(t: FuzzTargets, rng: Rng): { what: string; request: FuzzRequest; expect?: Buffer } {
  const range = rangeValue(t.rangeTarget.bytes.length, rng);
  const headers: Record<string, string> = { range };
  if (rng.chance(0.2)) headers['if-range'] = rng.pick(['"nope"', 'Wed, 21 Oct 2015 07:28:00 GMT', 'garbage', '*']);
  if (rng.chance(0.1)) headers['if-none-match'] = rng.pick(['*', '"x"', 'W/"y"', '']);
  if (rng.chance(0.3)) return { what: `GET /pypi/simple/ Range: ${range.slice(0, 80)}`, request: { method: 'GET', path: '/pypi/simple/', headers } };
  return { what: `GET ${t.rangeTarget.path} Range: ${range.slice(0, 80)}`, request: { method: rng.chance(0.15) ? 'HEAD' : 'GET', path: t.rangeTarget.path, headers }, expect: t.rangeTarget.bytes };
}

/** `count` cases from `seed`: about half package mutants, the rest multipart, traversal and Range. */
export function generateCases(seed: number, count: number, corpus: Sample[], t: FuzzTargets): FuzzCase[] {
  const rng = new Rng(seed);
  const cases: FuzzCase[] = [];
  for (let id = 0; id < count; id++) {
    const r = rng.next();
    if (r < 0.5) {
      const sample = corpus[id % corpus.length];
      const [bytes, what] = mutate(sample, rng);
      cases.push({ id, kind: 'upload', what: `${sample.filename}: ${what}`, request: uploadRequest(sample, bytes, t.auth, rng) });
    } else if (r < 0.65) {
      cases.push({ id, kind: 'multipart', ...multipartCase(corpus, t, rng) });
    } else if (r < 0.9) {
      cases.push({ id, kind: 'traversal', ...traversalCase(corpus, t, rng) });
    } else {
      cases.push({ id, kind: 'range', ...rangeCase(t, rng) });
    }
  }
  return cases;
}
