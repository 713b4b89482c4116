// What a `wharf migrate-from` run did, item by item: moved, already there (a rerun), or not
// moved and why. Every source fills one; the command prints it as the run's summary.

export type ItemKind = 'repository' | 'user' | 'grant' | 'token' | 'file' | 'package' | 'signing key' | 'setting';

export interface ReportItem {
  kind: ItemKind;
  /** What it is called in the source (a user name, an index, a file path). */
  name: string;
  /** Why it was not moved, or a remark on what was (e.g. "password must be set again"). */
  note?: string;
}

export class MigrationReport {
  readonly moved: ReportItem[] = [];
  readonly unchanged: ReportItem[] = [];
  readonly skipped: ReportItem[] = [];
  /** Lines a person must read once (e.g. a minted token): printed after the summary. */
  readonly notices: string[] = [];

  move(kind: ItemKind, name: string, note?: string): void {
    this.moved.push({ kind, name, ...(note ? { note } : {}) });
  }
  same(kind: ItemKind, name: string): void {
    this.unchanged.push({ kind, name });
  }
  skip(kind: ItemKind, name: string, reason: string): void {
    this.skipped.push({ kind, name, note: reason });
  }
  notice(line: string): void {
    this.notices.push(line);
  }

  /** True when a rerun found everything already in place. */
  get changedNothing(): boolean {
    return this.moved.length === 0;
  }

  /** Counts per kind, e.g. "3 repositories, 120 files". */
  private static counts(items: ReportItem[]): string {
    const by = new Map<ItemKind, number>();
    for (const i of items) by.set(i.kind, (by.get(i.kind) ?? 0) + 1);
    if (by.size === 0) return 'nothing';
    return [...by].map(([k, n]) => `${n} ${n === 1 ? k : plural(k)}`).join(', ');
  }

  /** The human summary: totals, then every item not moved with its reason, then notices. */
  summary(source: string): string {
    const lines = [
      `migrated from ${source}: ${MigrationReport.counts(this.moved)}`,
      `already in place: ${MigrationReport.counts(this.unchanged)}`,
      `not moved: ${MigrationReport.counts(this.skipped)}`,
    ];
    for (const m of this.moved) if (m.note) lines.push(`  note: ${m.kind} ${m.name}: ${m.note}`);
    for (const s of this.skipped) lines.push(`  not moved: ${s.kind} ${s.name}: ${s.note}`);
    if (this.notices.length) lines.push('', ...this.notices);
    return lines.join('\n') + '\n';
  }

  toJSON(): { moved: ReportItem[]; unchanged: ReportItem[]; skipped: ReportItem[]; notices: string[] } {
    return { moved: this.moved, unchanged: this.unchanged, skipped: this.skipped, notices: this.notices };
  }
}

function plural(kind: ItemKind): string {
  return kind === 'repository' ? 'repositories' : `${kind}s`;
}
