import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { DEFAULT_STATE_DIR, LocalRegistry } from './local-registry.js';

export const APPROVE_USAGE = 'cliniko-migrate approve <runId> [--state-dir DIR] [--stack NAME]';

/**
 * Sign-off of a dry run. On this machine it is recorded beside the run's state, and a
 * `run --mode live --require-approval` of the same export (same sha256) then proceeds. With
 * `--stack` it drops the `approved` marker beside the export in the deployed bucket, which starts
 * the live run there (its Preflight checks the sha256 against the approved dry run).
 */
export async function approveCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'state-dir': { type: 'string' }, stack: { type: 'string' } },
    strict: true,
  });
  const [runId, ...extra] = positionals;
  if (!runId || extra.length) throw new UsageError(`approve takes one run id.\n${APPROVE_USAGE}`);
  const by = process.env.USER ?? process.env.USERNAME ?? 'operator';
  if (values.stack) {
    const { approveDeployed } = await import('./deployed-runs.js');
    const marker = await approveDeployed(values.stack, runId, by);
    out(`Approved dry run ${runId}: s3://${marker.bucket}/${marker.key} starts its live run.`);
    return 0;
  }
  const registry = new LocalRegistry(resolve(values['state-dir'] ?? DEFAULT_STATE_DIR));
  const approval = await registry.approve(runId, by);
  out(
    `Approved dry run ${runId} of ${approval.exportFile} (sha256 ${approval.sha256.slice(0, 12)}…) by ${by}.`,
  );
  out(
    `A live run of the same export now proceeds: cliniko-migrate run ${approval.exportFile} --mode live --require-approval`,
  );
  return 0;
}
