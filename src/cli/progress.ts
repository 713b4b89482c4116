// A one-line progress bar on stderr when it is a terminal; silent otherwise (logs stay clean).
import { formatBytes } from './context.ts';

export class ProgressBar {
  private readonly label: string;
  private readonly enabled: boolean;
  private readonly unit: 'bytes' | 'files';
  private last = 0;

  /** `unit` 'files': a count of files (a batch import, a migration), shown as a plain number. */
  constructor(label: string, enabled = Boolean(process.stderr.isTTY), unit: 'bytes' | 'files' = 'bytes') {
    this.label = label;
    this.enabled = enabled;
    this.unit = unit;
  }

  update(done: number, total: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100 && done < total) return;
    this.last = now;
    const width = 30;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    process.stderr.write(`\r[${bar}] ${String(Math.round(frac * 100)).padStart(3)}% ${this.amount(done)}/${this.amount(total)} ${this.label}`);
  }

  private amount(n: number): string {
    return this.unit === 'bytes' ? formatBytes(n) : n.toLocaleString('en');
  }

  done(): void {
    if (this.enabled) process.stderr.write('\r\x1b[K');
  }
}
