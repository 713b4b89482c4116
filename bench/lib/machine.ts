// The machine a benchmark ran on, for the results' header: results from different machines
// are not comparable, and ratios from one run are the figures to quote.
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

export interface MachineInfo {
  nproc: number;
  cpu: string;
  ramGiB: number;
  node: string;
  date: string;
}

export function machineInfo(): MachineInfo {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    // not Linux: keep os.cpus()'s answer
  }
  return {
    nproc: cpus().length,
    cpu,
    ramGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

export function machineLine(m: MachineInfo): string {
  return `Machine: ${m.nproc} CPUs (${m.cpu}), ${m.ramGiB} GiB RAM, Node ${m.node}; run ${m.date}.`;
}
