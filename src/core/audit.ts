// Who is changing things, for the audit trail (docs/security.md). The server names the actor
// once per request (user or token, client address) and the offline CLI once per command; every
// write path then records its change with `recordAudit` inside its own transaction, so a change
// never commits without its entry. The actor travels with the async context, so the core's
// write paths take no extra parameter and know nothing of HTTP.
import { AsyncLocalStorage } from 'node:async_hooks';
import { AuditLog } from '../db/audit-log.ts';
import type { Sql } from '../db/sql.ts';
import type { Principal } from './auth/principal.ts';

export interface AuditActor {
  actor: string;
  tokenId?: string | null;
  tokenName?: string | null;
  address?: string | null;
}

/** What the server does on its own (a scheduled job, the configuration file at start). */
export const SYSTEM: AuditActor = { actor: 'system' };
/** An offline command on the data directory (`wharf fsck --repair`). */
export const CLI: AuditActor = { actor: 'cli' };

const current = new AsyncLocalStorage<AuditActor>();

/** Run `fn` with `actor` as the one that changes things. */
export function actingAs<T>(actor: AuditActor, fn: () => T): T {
  return current.run(actor, fn);
}

export function currentActor(): AuditActor {
  return current.getStore() ?? SYSTEM;
}

export function actorOf(p: Principal, address: string | null): AuditActor {
  if (p.kind === 'anonymous') return { actor: 'anonymous', address };
  if (p.kind === 'token') return { actor: p.user.name, tokenId: p.token.id, tokenName: p.token.name, address };
  return { actor: p.user.name, address };
}

export interface AuditEntry {
  repo?: string | null;
  action: string;
  target?: string | null;
  detail?: Record<string, unknown>;
}

/**
 * Append one entry, by the current actor. Call it inside the transaction that makes the change
 * (it joins it): one INSERT, committed or rolled back with the change.
 */
export async function recordAudit(sql: Sql, e: AuditEntry): Promise<void> {
  const a = currentActor();
  await new AuditLog(sql).insert({
    actor: a.actor, tokenId: a.tokenId ?? null, tokenName: a.tokenName ?? null, address: a.address ?? null,
    repo: e.repo ?? null, action: e.action, target: e.target ?? null, detail: e.detail ?? {},
  });
}

const SECRET_KEY = /password|secret|token/i;

/** Options as the trail keeps them: secrets (an upstream's password) masked. */
export function maskedOptions(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [k, SECRET_KEY.test(k) && v !== undefined && v !== null ? '(secret)' : v]));
}

/** Keys and values that changed between two option objects, secrets masked: `{ key: [old, new] }`. */
export function changedOptions(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, [unknown, unknown]> {
  const out: Record<string, [unknown, unknown]> = {};
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[k];
    const b = after[k];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    out[k] = SECRET_KEY.test(k) ? [a === undefined ? undefined : '(secret)', b === undefined ? undefined : '(secret)'] : [a, b];
  }
  return out;
}

/** `7d`, `12h`, `30m` before now, or an ISO time; the ISO time it means, or null. */
export function parseSince(value: string, now = Date.now()): string | null {
  const m = /^(\d+)([smhd])$/.exec(value.trim());
  if (m) return new Date(now - Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd']).toISOString();
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}
