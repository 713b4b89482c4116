// Options of an Arch repository, validated when it is created or changed.
import { badRequest } from '../../core/errors.ts';
import type { Repository } from '../../core/model.ts';
import { normalizeRetentionOption, type RetentionOption } from '../../core/retention.ts';

export interface ArchOptions {
  /** Architectures that always have a db, even when empty; uploads add others. */
  architectures: string[];
  /** Sign packages that arrive without a signature with the repository key. */
  signPackages: boolean;
  /** Publish only packages whose uploaded signature verifies against `trustedKeys`. */
  requireSignedUploads: boolean;
  /** Armored OpenPGP public keys that uploaded package signatures are checked against. */
  trustedKeys: string[];
  allowOverwrite: boolean;
  /** A scheduled `clean` (keepVersions per package). */
  retention?: RetentionOption;
}

const ARCH = /^[A-Za-z0-9_]+$/;
const KNOWN = new Set(['architectures', 'signPackages', 'requireSignedUploads', 'trustedKeys', 'allowOverwrite', 'retention']);

function bool(options: Record<string, unknown>, key: string, dflt: boolean): boolean {
  const v = options[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw badRequest(`${key} must be true or false`);
  return v;
}

export function normalizeArchOptions(options: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(options)) if (!KNOWN.has(k)) throw badRequest(`unknown arch option ${JSON.stringify(k)}; known: ${[...KNOWN].join(', ')}`);
  const archs = options.architectures ?? ['x86_64'];
  if (!Array.isArray(archs) || archs.length === 0 || !archs.every((a) => typeof a === 'string' && ARCH.test(a) && a !== 'any')) {
    throw badRequest('architectures must be a non-empty list of names such as "x86_64" ("any" packages go to every architecture)');
  }
  const keys = options.trustedKeys ?? [];
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string' && k.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----'))) {
    throw badRequest('trustedKeys must be a list of armored OpenPGP public keys');
  }
  const result: ArchOptions = {
    architectures: [...new Set(archs as string[])],
    signPackages: bool(options, 'signPackages', true),
    requireSignedUploads: bool(options, 'requireSignedUploads', false),
    trustedKeys: keys as string[],
    allowOverwrite: bool(options, 'allowOverwrite', false),
  };
  if (result.requireSignedUploads && result.trustedKeys.length === 0) throw badRequest('requireSignedUploads needs at least one key in trustedKeys');
  const retention = normalizeRetentionOption(options.retention, { keepDays: false, except: false });
  if (retention) result.retention = retention;
  return { ...result };
}

export function archOptions(repo: Repository): ArchOptions {
  const o = repo.options as Partial<ArchOptions>;
  return {
    architectures: o.architectures ?? ['x86_64'],
    signPackages: o.signPackages ?? true,
    requireSignedUploads: o.requireSignedUploads ?? false,
    trustedKeys: o.trustedKeys ?? [],
    allowOverwrite: o.allowOverwrite ?? false,
  };
}
