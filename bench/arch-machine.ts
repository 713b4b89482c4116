// The machine a benchmark ran on, for the tables in docs/benchmarks.md.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export const nproc = () => os.availableParallelism();
export const tmpdir = () => os.tmpdir();
export function cpus(): string {
  try {
    return /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown CPU';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown CPU';
  }
}
