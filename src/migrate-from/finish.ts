// How every migration ends: the report as a summary (or JSON with --json).
import { out, type GlobalOptions } from '../cli/context.ts';
import type { MigrationReport } from './report.ts';

export function printReport(report: MigrationReport, source: string, globals: GlobalOptions): void {
  if (globals.json) out(JSON.stringify(report.toJSON(), null, 2));
  else out(report.summary(source));
}
