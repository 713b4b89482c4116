// API tokens: `wharf_<id>_<secret>`. Only a sha256 of the whole token is stored; tokens are
// long random strings, so a fast hash is enough and lookups stay one indexed read.
import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_PREFIX = 'wharf_';

export function generateToken(): { id: string; token: string } {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(24).toString('base64url');
  return { id, token: `${TOKEN_PREFIX}${id}_${secret}` };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function looksLikeToken(value: string): boolean {
  return value.startsWith(TOKEN_PREFIX) && value.length > TOKEN_PREFIX.length + 20;
}
