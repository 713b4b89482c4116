// Signing keys per repository, for formats that sign their indexes (APT, Arch). A key is
// generated on first use or imported; rotation adds a new key and keeps the old one signing
// beside it for a grace period, so clients can move to the new key without a gap.
import { ChangeLog } from '../db/change-log.ts';
import type { Store } from '../db/store.ts';
import { badRequest } from './errors.ts';
import type { Repository } from './model.ts';
import { generateSigningKey, importSigningKey, publicKeysArmored, type SigningKey } from './signing.ts';

interface StoredKey extends SigningKey {
  /** While rotating: the old key signs until this time, then is dropped. */
  retiresAt: string | null;
}

const settingKey = (repo: Repository) => `repo:${repo.id}:signing-keys`;
export const DEFAULT_ROTATION_GRACE_DAYS = 30;

export class RepoKeys {
  private readonly store: Store;
  private readonly creating = new Map<number, Promise<StoredKey[]>>();

  constructor(store: Store) {
    this.store = store;
  }

  private async read(repo: Repository): Promise<StoredKey[]> {
    const raw = await this.store.getSetting(settingKey(repo));
    const keys: StoredKey[] = raw ? JSON.parse(raw) : [];
    const now = Date.now();
    return keys.filter((k) => k.retiresAt === null || Date.parse(k.retiresAt) > now);
  }

  private async write(repo: Repository, keys: StoredKey[]): Promise<void> {
    await this.store.transaction(async () => {
      await this.store.setSetting(settingKey(repo), JSON.stringify(keys));
      // Documents signed with the old keys, kept in memory by any process, go with them.
      await new ChangeLog(this.store.sql).note(repo.id, 'keys', '');
    });
  }

  /** The keys that sign now (generating the first one if there is none). */
  async signingKeys(repo: Repository): Promise<SigningKey[]> {
    const keys = await this.read(repo);
    if (keys.length) return keys;
    // Inside a transaction (fsck's scratch builds), not shared: a first key made elsewhere
    // would wait for this transaction's commit to store itself, and this one for it.
    if (this.store.sql.inTransaction()) return this.makeFirst(repo);
    let pending = this.creating.get(repo.id);
    if (!pending) {
      pending = this.makeFirst(repo).finally(() => this.creating.delete(repo.id));
      this.creating.set(repo.id, pending);
    }
    return pending;
  }

  private async makeFirst(repo: Repository): Promise<StoredKey[]> {
    const key = await generateSigningKey({ name: `Wharf repository ${repo.name}`, email: `${repo.name}@wharf.invalid` });
    // Generated before the transaction (it takes a while); looked for again in the one that
    // stores it, so a key another process stored meanwhile wins, and none is lost.
    return this.store.transaction(async () => {
      const again = await this.read(repo);
      if (again.length) return again;
      const stored = [{ ...key, retiresAt: null }];
      await this.write(repo, stored);
      return stored;
    });
  }

  /** The armored public keys clients should trust (all keys that sign now). */
  async publicKeys(repo: Repository): Promise<string> {
    return publicKeysArmored(await this.signingKeys(repo));
  }

  async describe(repo: Repository): Promise<{ fingerprint: string; createdAt: string; retiresAt: string | null }[]> {
    const keys = (await this.signingKeys(repo)) as StoredKey[];
    return keys.map((k) => ({ fingerprint: k.fingerprint, createdAt: k.createdAt, retiresAt: k.retiresAt }));
  }

  /**
   * Start signing with a new (generated or imported) key; current keys keep signing for
   * `graceDays`. `inTransaction` runs in the transaction that stores the keys (to mark the
   * signed indexes dirty, so a crash before they are republished re-signs them at start;
   * to audit the change: the new key's fingerprint, and those retired at once);
   * it awaits nothing but the database.
   */
  async rotate(repo: Repository, opts: { armoredPrivateKey?: string; passphrase?: string; graceDays?: number } = {}, inTransaction?: (fingerprint: string, retired: string[]) => void | Promise<void>): Promise<void> {
    const next = opts.armoredPrivateKey
      ? await importSigningKey(opts.armoredPrivateKey, opts.passphrase)
      : await generateSigningKey({ name: `Wharf repository ${repo.name}`, email: `${repo.name}@wharf.invalid` });
    const graceDays = opts.graceDays ?? DEFAULT_ROTATION_GRACE_DAYS;
    if (!(graceDays >= 0)) throw badRequest('graceDays must be 0 or more');
    const retiresAt = new Date(Date.now() + graceDays * 86_400_000).toISOString();
    await this.store.transaction(async () => {
      // Read in the transaction that writes: keys stored meanwhile (a first key made by a
      // concurrent signingKeys, another rotation) are kept, not overwritten.
      const current = (await this.read(repo)).filter((k) => k.fingerprint !== next.fingerprint);
      const kept = graceDays === 0 ? [] : current.map((k) => ({ ...k, retiresAt: k.retiresAt ?? retiresAt }));
      await this.write(repo, [{ ...next, retiresAt: null }, ...kept]);
      await inTransaction?.(next.fingerprint, graceDays === 0 ? current.map((k) => k.fingerprint) : []);
    });
  }

  /**
   * Add an imported key as a second signer beside the current ones, for `graceDays` (a
   * migration keeps the old repository's key signing while clients move to the new one).
   * The current keys stay as they are; a key already signing is left alone (returns false).
   */
  async addSigner(repo: Repository, opts: { armoredPrivateKey: string; passphrase?: string; graceDays: number }, inTransaction?: (fingerprint: string) => void | Promise<void>): Promise<boolean> {
    const extra = await importSigningKey(opts.armoredPrivateKey, opts.passphrase);
    if (!(opts.graceDays > 0)) throw badRequest('graceDays must be more than 0');
    // The repository's own key first: made now if the repository has none yet.
    await this.signingKeys(repo);
    const retiresAt = new Date(Date.now() + opts.graceDays * 86_400_000).toISOString();
    return this.store.transaction(async () => {
      const current = await this.read(repo);
      if (current.some((k) => k.fingerprint === extra.fingerprint)) return false;
      await this.write(repo, [...current, { ...extra, retiresAt }]);
      await inTransaction?.(extra.fingerprint);
      return true;
    });
  }
}
