// `--keep-signer`: the old repository's secret key signs beside Wharf's during the move.
import type { WharfClient } from '../../client/client.ts';
import type { MigrationReport } from '../report.ts';

export async function keepSigner(_client: WharfClient, _repo: string, file: string, _days: number, report: MigrationReport): Promise<void> {
  report.skip('signing key', file, 'keeping the old key as a second signer is not supported yet');
}
