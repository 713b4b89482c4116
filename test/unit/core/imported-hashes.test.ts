// Hashes written by the real tools (Debian's htpasswd from apache2-utils, openssl passwd) at
// test time: Wharf must accept the right password and refuse a wrong one for each scheme.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { isBcrypt, verifyBcrypt } from '../../../src/core/auth/bcrypt.ts';
import { importedScheme, verifyImported, whyNotImportable } from '../../../src/core/auth/imported-hashes.ts';

const noHtpasswd = spawnSync('sh', ['-c', 'command -v htpasswd']).status === 0 ? false : 'needs htpasswd (apt-get install apache2-utils; scripts/install-test-deps.sh)';

/** The hash `htpasswd -n <flags>` prints for this password. */
function htpasswd(flags: string[], password: string): string {
  const line = execFileSync('htpasswd', ['-nb', ...flags, 'someone', password], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  return line.slice(line.indexOf(':') + 1);
}

const PASSWORDS = ['correct horse', 'pässwörd ☃', 'a', 'x'.repeat(71), 'y'.repeat(100)];

test('bcrypt hashes from htpasswd -B ($2y$) verify, at several costs and lengths', { skip: noHtpasswd }, () => {
  for (const [i, pw] of PASSWORDS.entries()) {
    const hash = htpasswd(['-B', '-C', String(4 + (i % 3))], pw);
    assert.match(hash, /^\$2y\$0[456]\$/);
    assert.equal(importedScheme(hash), 'bcrypt');
    assert.equal(verifyImported(pw, hash), true, `${pw}: ${hash}`);
    assert.equal(verifyImported(pw.length >= 72 ? 'other' : `${pw}!`, hash), false);
  }
  // bcrypt reads 72 bytes at most: a longer password equal in its first 72 bytes matches.
  const long = htpasswd(['-B', '-C', '4'], 'z'.repeat(72));
  assert.equal(verifyBcrypt('z'.repeat(80), long), true);
  assert.equal(verifyBcrypt('z'.repeat(71), long), false);
});

test('bcrypt $2b$ from python3-bcrypt (pypiserver\'s passlib backend) verifies', { skip: spawnSync('/usr/bin/python3', ['-c', 'import bcrypt']).status === 0 ? false : 'needs python3-bcrypt' }, () => {
  const hash = execFileSync('/usr/bin/python3', ['-c', 'import bcrypt,sys; print(bcrypt.hashpw("pässwörd".encode(), bcrypt.gensalt(5)).decode())'], { encoding: 'utf8' }).trim();
  assert.match(hash, /^\$2b\$05\$/);
  assert.equal(verifyImported('pässwörd', hash), true);
  assert.equal(verifyImported('passwörd', hash), false);
  // The same hash as $2a$ (the older prefix) is computed the same way for such passwords.
  assert.equal(verifyImported('pässwörd', hash.replace('$2b$', '$2a$')), true);
});

test('SHA-1 ({SHA}) and apr1-MD5 hashes from htpasswd -s / -m, and MD5-crypt from openssl, verify', { skip: noHtpasswd }, () => {
  for (const pw of PASSWORDS) {
    for (const [flags, scheme] of [[['-s'], 'sha1'], [['-m'], 'md5-crypt']] as const) {
      const hash = htpasswd([...flags], pw);
      assert.equal(importedScheme(hash), scheme, hash);
      assert.equal(verifyImported(pw, hash), true, `${pw}: ${hash}`);
      assert.equal(verifyImported(`${pw}.`, hash), false);
    }
    for (const kind of ['-apr1', '-1']) {
      const hash = execFileSync('openssl', ['passwd', kind, '-stdin'], { input: pw, encoding: 'utf8' }).trim();
      assert.equal(verifyImported(pw, hash), true, `${kind} ${pw}: ${hash}`);
      assert.equal(verifyImported(pw.toUpperCase() === pw ? `${pw}?` : pw.toUpperCase(), hash), false);
    }
  }
});

test('plain text, crypt(3) DES and SHA-crypt entries are not importable, each with a reason', { skip: noHtpasswd }, () => {
  const plain = htpasswd(['-p'], 'secret12');
  const des = htpasswd(['-d'], 'secret12');
  const sha512 = htpasswd(['-2'], 'secret12');
  for (const h of [plain, des, sha512]) assert.equal(importedScheme(h), null, h);
  assert.match(whyNotImportable(plain), /plain-text/);
  assert.match(whyNotImportable(des), /DES/);
  assert.match(whyNotImportable(sha512), /SHA-crypt/);
  assert.equal(isBcrypt('$2y$31$abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQ'), false, 'a cost that would stall the server');
  assert.match(whyNotImportable('$2y$31$abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQ'), /cost 31/);
  assert.equal(verifyImported('secret12', plain), false);
  assert.equal(verifyImported('secret12', 'scrypt$1$2$3$4$5'), false);
});
