import { ENTITY_KEYS } from '../../src/core/entities.js';
import { clinicTime } from '../../src/core/time-zone.js';
import { configSummary } from './approval-binding.js';
import { type Approval, LocalRegistry, stateDirOf, zoneOf } from './local-registry.js';
import type { ApproveOptions } from './options.js';
import { shellWord } from './shell-words.js';

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
    const { resolveAwsTarget } = await import('./aws-target.js');
    const marker = await approveDeployed(stack, runId, by, await resolveAwsTarget(options));
    out(`Approved dry run ${runId}: s3://${marker.bucket}/${marker.key} starts its live run.`);
    return 0;
  }
  const registry = new LocalRegistry(stateDir);
  const approval = await registry.approve(runId, by);
  out(
    `Approved dry run ${runId} of ${approval.exportFile} (sha256 ${approval.sha256.slice(0, 12)}…) by ${by} on ${clinicTime(approval.approvedAt, zoneOf(approval))}.`,
  );
  // Sign-off is the clinic's call, but it should see what it signs off on.
  const entities = (await registry.getRun(runId))?.entities;
  const invalid = entities ? ENTITY_KEYS.reduce((n, k) => n + entities[k].invalid, 0) : 0;
  if (invalid)
    out(
      `Note: the dry run found ${invalid} rows that cannot be migrated; they stay behind (see its report).`,
    );
  if (approval.config) out(`Configuration signed off: ${configSummary(approval.config)}.`);
  if (approval.target) out(`Cliniko account signed off: ${approval.target.description}.`);
  out('The live run of the same export, with the same configuration into the same account:');
  out(`  ${liveCommand(approval)}`);
  return 0;
}

/** The exact command that runs the approved export live (paths absolute, as the dry run had them). */
export function liveCommand(approval: Approval): string {
  const inv = approval.invocation;
  if (!inv) return `cliniko-migrate run ${shellWord(approval.exportFile)} --mode live --require-approval`;
  return [
    'cliniko-migrate run',
    shellWord(inv.exportPath),
    ...(inv.configPath ? ['--config', shellWord(inv.configPath)] : []),
    '--mode live --require-approval',
    '--state-dir',
    shellWord(inv.stateDir),
    ...(inv.sandbox ? ['--sandbox'] : []),
    ...(inv.sandbox && inv.sandboxRateLimit ? ['--sandbox-rate-limit', String(inv.sandboxRateLimit)] : []),
    ...(inv.clinikoUrl ? ['--cliniko-url', shellWord(inv.clinikoUrl)] : []),
  ].join(' ');
}
