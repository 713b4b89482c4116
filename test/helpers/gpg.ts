// A throw-away gpg key for tests that need a source repository signed by its own tool.
import { execFileSync } from 'node:child_process';

/** Make an Ed25519 signing key (no passphrase) in a gpg home; returns its fingerprint. */
export function gpgKey(home: string, uid: string): string {
  execFileSync('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', uid, 'ed25519', 'sign', 'never'], { env: { ...process.env, GNUPGHOME: home }, stdio: 'pipe' });
  const out = execFileSync('gpg', ['--list-keys', '--with-colons'], { env: { ...process.env, GNUPGHOME: home } }).toString();
  return /^fpr:+([0-9A-F]+):/m.exec(out)![1];
}
