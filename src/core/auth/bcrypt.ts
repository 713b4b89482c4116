// bcrypt verification ($2a$, $2b$, $2y$), for password hashes imported from htpasswd files
// (pypiserver): Node's crypto has no Blowfish key schedule. Only verification is needed, once
// per migrated user (their first login re-hashes with scrypt). Blowfish's initial P-array and
// S-boxes are the fractional hex digits of pi; they are computed here once (a few ms) instead
// of carrying 4 KiB of constants. Checked against hashes written by Debian's `htpasswd -B`.
import { timingSafeEqual } from 'node:crypto';

const ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const WORDS = 18 + 4 * 256;
/** Above this cost one check would hold the event loop for minutes. */
export const MAX_BCRYPT_COST = 16;

let piWords: Uint32Array | undefined;

/** The first 1042 32-bit words of pi's fractional part (Machin's formula in fixed point). */
function blowfishInit(): Uint32Array {
  if (piWords) return piWords;
  const bits = BigInt(WORDS * 32 + 64);
  const one = 1n << bits;
  const arctanInv = (x: bigint): bigint => {
    let sum = 0n;
    let term = one / x;
    const x2 = x * x;
    for (let k = 1n, sign = 1n; term !== 0n; k += 2n, sign = -sign) {
      sum += sign * (term / k);
      term /= x2;
    }
    return sum;
  };
  const pi = 16n * arctanInv(5n) - 4n * arctanInv(239n);
  let frac = (pi & (one - 1n)) >> 64n;
  const words = new Uint32Array(WORDS);
  for (let i = WORDS - 1; i >= 0; i--) {
    words[i] = Number(frac & 0xffffffffn);
    frac >>= 32n;
  }
  piWords = words;
  return words;
}

function decode64(s: string, bytes: number): Buffer | null {
  const out = Buffer.alloc(bytes);
  let bits = 0;
  let acc = 0;
  let n = 0;
  for (const ch of s) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return null;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n < bytes) out[n++] = (acc >> bits) & 0xff;
    }
  }
  return n === bytes ? out : null;
}

function encode64(b: Buffer): string {
  let s = '';
  for (let i = 0; i < b.length; i += 3) {
    const c1 = b[i];
    const c2 = i + 1 < b.length ? b[i + 1] : 0;
    const c3 = i + 2 < b.length ? b[i + 2] : 0;
    s += ALPHABET[c1 >> 2] + ALPHABET[((c1 & 3) << 4) | (c2 >> 4)];
    if (i + 1 < b.length) s += ALPHABET[((c2 & 15) << 2) | (c3 >> 6)];
    if (i + 2 < b.length) s += ALPHABET[c3 & 63];
  }
  return s;
}

class Blowfish {
  readonly p: Uint32Array;
  readonly s: Uint32Array;
  private readonly lr = new Uint32Array(2);

  constructor() {
    const init = blowfishInit();
    this.p = init.slice(0, 18);
    this.s = init.slice(18);
  }

  /** Encrypts lr[0], lr[1] in place. */
  private encrypt(): void {
    const { p, s, lr } = this;
    let l = lr[0];
    let r = lr[1];
    for (let i = 0; i < 16; i += 2) {
      l ^= p[i];
      r ^= (((s[l >>> 24] + s[256 | ((l >>> 16) & 0xff)]) ^ s[512 | ((l >>> 8) & 0xff)]) + s[768 | (l & 0xff)]);
      r ^= p[i + 1];
      l ^= (((s[r >>> 24] + s[256 | ((r >>> 16) & 0xff)]) ^ s[512 | ((r >>> 8) & 0xff)]) + s[768 | (r & 0xff)]);
    }
    lr[0] = r ^ p[17];
    lr[1] = l ^ p[16];
  }

  /** Encrypts an 8-byte block held as two words. */
  block(l: number, r: number): [number, number] {
    this.lr[0] = l;
    this.lr[1] = r;
    this.encrypt();
    return [this.lr[0], this.lr[1]];
  }

  /** Blowfish's key schedule with bcrypt's salt mixed in (`salt` empty: the plain one). */
  expand(key: Buffer, salt: Buffer | null): void {
    let kp = 0;
    const keyWord = () => {
      let w = 0;
      for (let i = 0; i < 4; i++) {
        w = (w << 8) | key[kp];
        kp = (kp + 1) % key.length;
      }
      return w;
    };
    for (let i = 0; i < 18; i++) this.p[i] ^= keyWord();
    let sp = 0;
    const saltWord = () => {
      if (!salt) return 0;
      const w = salt.readUInt32BE(sp);
      sp = (sp + 4) % salt.length;
      return w;
    };
    const lr = this.lr;
    lr[0] = 0;
    lr[1] = 0;
    for (let i = 0; i < 18; i += 2) {
      lr[0] ^= saltWord();
      lr[1] ^= saltWord();
      this.encrypt();
      this.p[i] = lr[0];
      this.p[i + 1] = lr[1];
    }
    for (let i = 0; i < 1024; i += 2) {
      lr[0] ^= saltWord();
      lr[1] ^= saltWord();
      this.encrypt();
      this.s[i] = lr[0];
      this.s[i + 1] = lr[1];
    }
  }
}

const MAGIC = Buffer.from('OrpheanBeholderScryDoubt', 'latin1');

/** The 31-character checksum bcrypt stores after the salt. */
function bcryptChecksum(password: string, cost: number, salt: Buffer): string {
  // The key is the password and its terminating NUL, at most 72 bytes.
  let key = Buffer.concat([Buffer.from(password, 'utf8'), Buffer.alloc(1)]);
  if (key.length > 72) key = key.subarray(0, 72);
  const bf = new Blowfish();
  bf.expand(key, salt);
  for (let i = 0, rounds = 2 ** cost; i < rounds; i++) {
    bf.expand(key, null);
    bf.expand(salt, null);
  }
  const text = new Uint32Array(6);
  for (let i = 0; i < 6; i++) text[i] = MAGIC.readUInt32BE(i * 4);
  for (let n = 0; n < 64; n++) {
    for (let i = 0; i < 6; i += 2) [text[i], text[i + 1]] = bf.block(text[i], text[i + 1]);
  }
  const out = Buffer.alloc(24);
  for (let i = 0; i < 6; i++) out.writeUInt32BE(text[i], i * 4);
  return encode64(out.subarray(0, 23));
}

const BCRYPT_RE = /^\$2[aby]\$(\d\d)\$([./A-Za-z0-9]{22})([./A-Za-z0-9]{31})$/;

/** True when `hash` is a bcrypt hash this module can check (and of a cost it will check). */
export function isBcrypt(hash: string): boolean {
  const m = BCRYPT_RE.exec(hash);
  return !!m && Number(m[1]) >= 4 && Number(m[1]) <= MAX_BCRYPT_COST;
}

export function verifyBcrypt(password: string, hash: string): boolean {
  const m = BCRYPT_RE.exec(hash);
  if (!m || !isBcrypt(hash)) return false;
  const salt = decode64(m[2], 16);
  if (!salt) return false;
  const got = Buffer.from(bcryptChecksum(password, Number(m[1]), salt));
  const want = Buffer.from(m[3]);
  return got.length === want.length && timingSafeEqual(got, want);
}
