import { ENTITY_KEYS } from '../migration/entities.js';
import { LocalRegistry, stateDirOf } from './local-registry.js';
import type { ApproveOptions } from './main.js';

/**
 * Sign-off of a dry run. On this machine it is recorded beside the run's state, and a
 * `run --mode live --require-approval` of the same export (same sha256) then proceeds. With
 * `--stack` it drops the `approved` marker beside the export in the deployed bucket, which starts
 * the live run there (its Preflight checks the sha256 against the approved dry run).
 */
export async function approveCommand(
  runId: string,
  options: ApproveOptions,
  out: (line: string) => void,
): Promise<number> {
  const { stack, by } = options;
  const stateDir = stateDirOf(options);
  if (stack) {
    const { approveDeployed } = await import('./deployed-runs.js');
    const marker = await approveDeployed(stack, runId, by);
    out(`Approved dry run ${runId}: s3://${marker.bucket}/${marker.key} starts its live run.`);
    return 0;
  }
  const registry = new LocalRegistry(stateDir);
  const approval = await registry.approve(runId, by);
  out(
    `Approved dry run ${runId} of ${approval.exportFile} (sha256 ${approval.sha256.slice(0, 12)}…) by ${by}.`,
  );
  // Sign-off is the clinic's call, but it should see what it signs off on.
  const entities = (await registry.getRun(runId))?.entities;
  const invalid = entities ? ENTITY_KEYS.reduce((n, k) => n + entities[k].invalid, 0) : 0;
  if (invalid)
    out(
      `Note: the dry run found ${invalid} rows that cannot be migrated; they stay behind (see its report).`,
    );
  out(
    `A live run of the same export now proceeds: cliniko-migrate run ${approval.exportFile} --mode live --require-approval`,
  );
  return 0;
}
