import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { parseAt } from '../../src/core/boundary.js';
import { ENTITY_KEYS } from '../../src/core/entities.js';
import { configuredKeys } from './cliniko-connection.js';
import { UsageError } from './errors.js';
import { ApprovalError, LocalRegistry, type LocalRunRecord, stateDirOf } from './local-registry.js';
import { DEFAULT_SANDBOX_RATE_LIMIT, type RunIdOptions } from './options.js';
import { prepareStateDir } from './run-steps.js';
import { startKeptSandbox } from './sandbox-account.js';
import { printStatus } from './status-command.js';
import { asZip } from './zip-folder.js';

/**
 * `redrive <runId>`: after the cause is fixed (Cliniko back, a key restored), sends the run's
 * dead-lettered write commands to the writers again and makes its report again, so the report
 * and `status` count the records now written. Safe to repeat: each command is marked to re-find
 * its record first, and a record the id map holds is not written twice.
 *
 * - With `--stack`: the stack's dead-letter queue (only this run's messages are taken; other runs'
 *   stay), then waits up to `waitMinutes` for the writers, then remakes report.json in the bucket.
 * - On this machine: a local run's queues end with it, so `run` keeps its dead letters in the
 *   state folder (`dead-letters/<runId>.json`); the redrive sends them through a fresh local
 *   pipeline over the same status table, with the same export and Cliniko as the run.
 *
 * Returns the exit code: 0 when nothing is left dead-lettered, 1 when some still are.
 */
export async function redriveCommand(
  runId: string,
  options: RunIdOptions & { readonly waitMinutes?: number },
  out: (line: string) => void,
): Promise<number> {
  if (options.stack) {
    const { redriveDeployed } = await import('./deployed-redrive.js');
    const { resolveAwsTarget } = await import('./aws-target.js');
    const result = await redriveDeployed(options.stack, runId, await resolveAwsTarget(options), {
      waitMs: (options.waitMinutes ?? 30) * 60_000,
      out,
    });
    printStatus(result.record, out);
    return result.left ? 1 : 0;
  }
  return redriveLocalRun(runId, stateDirOf(options), out);
}

/** Where `run` keeps a local run's dead-lettered message bodies. */
export const deadLettersPath = (stateDir: string, runId: string) =>
  join(stateDir, 'dead-letters', `${runId}.json`);

/** Keeps a local run's dead letters (none: forgets them). */
export async function keepDeadLetters(
  stateDir: string,
  runId: string,
  bodies: readonly string[],
): Promise<void> {
  const path = deadLettersPath(stateDir, runId);
  if (!bodies.length) {
    await rm(path, { force: true });
    return;
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(bodies), { mode: 0o600 });
}

async function redriveLocalRun(
  runId: string,
  stateDir: string,
  out: (line: string) => void,
): Promise<number> {
  const registry = new LocalRegistry(stateDir);
  const record = await registry.getRun(runId);
  if (!record) throw new ApprovalError(`no run ${runId} in ${stateDir}`);
  if (record.mode !== 'live')
    throw new UsageError(`run ${runId} is a dry run: it wrote nothing, so nothing is dead-lettered`);
  let bodies: string[];
  try {
    bodies = parseAt(
      `dead letters of ${runId}`,
      z.array(z.string()),
      JSON.parse(await readFile(deadLettersPath(stateDir, runId), 'utf8')),
    );
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw err;
    bodies = [];
  }
  if (!bodies.length) {
    out(`Run ${runId} has no dead-lettered commands: nothing to redrive.`);
    return 0;
  }
  const invocation = record.invocation;
  if (!invocation) throw new UsageError(`run ${runId} does not say which export and Cliniko it used`);
  // A run into the embedded sandbox is redriven into its account, kept in the state folder.
  const kept = invocation.sandbox
    ? await startKeptSandbox(stateDir, invocation.sandboxRateLimit ?? DEFAULT_SANDBOX_RATE_LIMIT)
    : undefined;
  const keys = kept ? [kept.apiKey] : configuredKeys();
  if (!keys.length)
    throw new UsageError('set CLINIKO_API_KEY (or CLINIKO_API_KEYS) to the keys the run used');
  const baseUrl = kept?.sandbox.baseUrl ?? invocation.clinikoUrl ?? process.env.CLINIKO_BASE_URL;
  const userAgent = process.env.CLINIKO_USER_AGENT;
  out(`Redriving ${bodies.length} dead-lettered commands of run ${runId}…`);
  const zip = await asZip(resolve(invocation.exportPath));
  try {
    const { runLocal } = await import('../local/run-local.js');
    const result = await runLocal(
      {
        exportZip: zip,
        ...(invocation.configPath ? { configJson: invocation.configPath } : {}),
        mode: 'live',
        credentials: { apiKeys: keys, ...(baseUrl ? { baseUrl } : {}), ...(userAgent ? { userAgent } : {}) },
        statePath: await prepareStateDir(join(stateDir, 'status-table')),
        redrive: { runId, bodies },
      },
      () => record.reportDir ?? resolve(`out/${runId}`),
    );
    const left = result.deadLetterBodies ?? [];
    await keepDeadLetters(stateDir, runId, left);
    const failed = ENTITY_KEYS.reduce((n, k) => n + result.report.entities[k].failed, 0);
    const updated: LocalRunRecord = {
      ...record,
      state: failed ? 'finished-with-failures' : 'succeeded',
      updatedAt: new Date().toISOString(),
      entities: result.report.entities,
      reportDir: dirname(result.files.json),
    };
    await registry.putRun(updated);
    out(
      left.length
        ? `${bodies.length - left.length} written, ${left.length} dead-lettered again: fix the cause (see the report) and redrive again.`
        : `All ${bodies.length} written; the report is made again.`,
    );
    printStatus(updated, out);
    return left.length ? 1 : 0;
  } finally {
    await kept?.close();
    if (zip !== resolve(invocation.exportPath)) await rm(dirname(zip), { recursive: true, force: true });
  }
}
