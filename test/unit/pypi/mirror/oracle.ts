// Python's `packaging` (as vendored by pip) as a reference oracle at test time.
// Returns null when no python3 on PATH can import it, so callers can skip.
import { execFileSync } from 'node:child_process';

let available: boolean | null = null;

export function oracleAvailable(): boolean {
  if (available === null) {
    try {
      execFileSync('python3', ['-c', 'from pip._vendor.packaging.markers import Marker'], { stdio: 'ignore' });
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

/** Run `script` with `input` as JSON on stdin; the script prints JSON. */
export function runPython<T>(script: string, input: unknown): T {
  const out = execFileSync('python3', ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(out) as T;
}

export const skipReason = 'python3 with pip._vendor.packaging is not available';
