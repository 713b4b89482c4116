// `--keep-signer`: the old repository's secret key signs the indexes beside Wharf's key for a
// while, so clients that trust only the old key keep working during the move.
import { readFile } from 'node:fs/promises';
import type { WharfClient } from '../../client/client.ts';
import type { MigrationReport } from '../report.ts';

export async function keepSigner(client: WharfClient, repo: string, file: string, days: number, report: MigrationReport, passphrase?: string): Promise<void> {
  if (!(days > 0)) throw new Error('--keep-signer-days takes a number of days above 0');
  const armored = await readFile(file, 'utf8');
  const res = await client.addSigner(repo, armored, { graceDays: days, ...(passphrase !== undefined ? { passphrase } : {}) });
  const added = res.keys[res.keys.length - 1];
  if (res.added) report.move('signing key', file, `signs beside the repository's key until ${added?.retiresAt?.slice(0, 10) ?? '?'}`);
  else report.same('signing key', file);
}
