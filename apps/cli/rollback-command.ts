import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { describeAccount, identifyAccount } from '../../src/cliniko/account.js';
import { ClinikoClient } from '../../src/cliniko/client.js';
import type { IdMap } from '../../src/ports/id-map.js';
import type { RunStore } from '../../src/ports/runs.js';
import type { ClinikoCredentials } from '../../src/ports/secrets.js';
import type { WriteLedger } from '../../src/ports/write-ledger.js';
import {
  type RollbackItem,
  type RollbackReport,
  rollback,
  rollbackCsv,
} from '../../src/rollback/rollback.js';
import { takeOver, withAccountLease } from './account-lease.js';
import { configuredKeys } from './cliniko-connection.js';
import { UsageError } from './errors.js';
import { LocalRegistry, stateDirOf } from './local-registry.js';
import { DEFAULT_SANDBOX_RATE_LIMIT } from './options.js';
import { startKeptSandbox } from './sandbox-account.js';
import { lockStateDir } from './state-lock.js';

export interface RollbackOptions {
  readonly stateDir?: string;
  readonly stack?: string;
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly clinikoUrl?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly takeOver?: boolean;
  readonly yes?: boolean;
  /** Roll back in the embedded sandbox account kept in the state folder (`run --sandbox`). */
  readonly sandbox?: boolean;
}

/**
 * `rollback <runId>` (docs/RUNNING.md): archives what a live run created, from this machine's
 * state (`--state-dir`, with the keys in CLINIKO_API_KEY(S)) or from a deployed stack (`--stack`,
 * with the clinic's keys from Secrets Manager). The keys must belong to the run's Cliniko account.
 * Writes rollback-<n>.json and rollback-<n>.csv beside the run's report (n: 1 for the first rollback,
 * then 2…; none overwritten). Exit 0 when nothing failed, 1
 * when a record could not be archived, 2 on unusable arguments or state.
 */
export async function rollbackCommand(
  runId: string,
  options: RollbackOptions,
  out: (line: string) => void,
): Promise<number> {
  if (options.stack && options.stateDir)
    throw new UsageError('rollback reads a run from --state-dir or from --stack, not both');
  if (options.stack && options.sandbox)
    throw new UsageError(
      'rollback acts in the embedded sandbox (--sandbox) or in a deployed stack (--stack), not both',
    );
  if (options.region && !options.stack)
    throw new UsageError("--region names the deployed stack's region: it goes with --stack");
  const stateDir = stateDirOf(options);
  const unlockState = options.stack ? async () => {} : await lockStateDir(stateDir, 'rollback');
  const opened = await (options.stack
    ? openDeployed(options.stack, runId, options)
    : openLocal(stateDir, runId, options.clinikoUrl, options.sandbox ?? false)
  ).catch(async (err: unknown) => {
    await unlockState();
    throw err;
  });
  try {
    const run = await opened.store.getRun(runId).catch(() => {
      throw new UsageError(`run ${runId} is not in ${opened.where}`);
    });
    const keys = opened.credentials.apiKeys;
    const first = keys[0];
    if (!first)
      throw new UsageError("rollback needs the Cliniko API key of the run's account (CLINIKO_API_KEY)");
    const client = new ClinikoClient({
      apiKey: first,
      ...(opened.credentials.baseUrl ? { baseUrl: opened.credentials.baseUrl } : {}),
      ...(opened.credentials.userAgent ? { userAgent: opened.credentials.userAgent } : {}),
    });
    const account = await identifyAccount([client], []);
    if (account.shard !== run.account.shard || account.id !== run.account.id)
      throw new UsageError(
        `the key belongs to Cliniko account ${account.shard} ${account.subdomain ?? account.id}, but run ${runId} wrote to ${describeAccount(run.account)}: rollback archives only in the run's own account`,
      );
    out(
      `${options.dryRun ? 'Dry run of the rollback (nothing is archived)' : 'Rollback'} of run ${runId} in Cliniko account ${describeAccount(run.account)}.`,
    );
    const undo = () =>
      rollback({ runId, store: opened.store, client, dryRun: options.dryRun, force: options.force });
    // a rollback writes: it holds the account's lease as a live run does (a dry one needs none)
    if (!options.dryRun && options.takeOver)
      await takeOver(client, { yes: options.yes ?? false, timeZone: run.defaultTimeZone, out });
    const report = options.dryRun
      ? await undo()
      : await withAccountLease(client, `rollback-of-${runId}`, run.defaultTimeZone, undo);
    const where = await opened.save(report);
    summarise(report, out);
    out(`Rollback report: ${where}`);
    return report.counts.failed ? 1 : 0;
  } finally {
    await opened.close();
    await unlockState();
  }
}

function summarise(report: RollbackReport, out: (line: string) => void): void {
  const c = report.counts;
  const keptFor = (why: RollbackItem['keptFor']) => report.items.filter((i) => i.keptFor === why).length;
  const left = `changed after the run (left) ${c.changed}; there before the run (left) ${c.preexisting}; kept because a record left in Cliniko references it ${c.kept} (${keptFor('runRecord')} for this run's own, ${keptFor('otherRecord')} for records it did not create); gone ${c.missing}; failed ${c.failed}`;
  out(
    report.dryRun
      ? `would archive ${c.wouldArchive}; already archived ${c.alreadyArchived}; ${left}`
      : `archived ${c.archived}; already archived ${c.alreadyArchived}; ${left}`,
  );
  for (const i of report.items.filter(
    (x) =>
      x.outcome === 'changed' ||
      x.outcome === 'kept' ||
      x.outcome === 'preexisting' ||
      x.outcome === 'failed',
  ))
    out(`  ${i.outcome}: ${i.resource} ${i.clinikoId} (source ${i.sourceIds.join(', ')}): ${i.reason ?? ''}`);
}

interface Opened {
  readonly store: RunStore & IdMap & WriteLedger;
  readonly credentials: ClinikoCredentials;
  readonly where: string;
  save(report: RollbackReport): Promise<string>;
  close(): Promise<void>;
}

/** This machine's state: the status table kept under the state folder (the run must have used it). */
async function openLocal(
  stateDir: string,
  runId: string,
  clinikoUrl: string | undefined,
  sandbox: boolean,
): Promise<Opened> {
  const record = await new LocalRegistry(stateDir).getRun(runId);
  if (!record) throw new UsageError(`no run ${runId} in ${stateDir} (is --state-dir the one the run used?)`);
  // A run into the embedded sandbox is rolled back in its kept account: with --sandbox, or
  // when no key says otherwise.
  const kept =
    sandbox || (record.invocation?.sandbox === true && !configuredKeys().length && !clinikoUrl)
      ? await startKeptSandbox(stateDir, record.invocation?.sandboxRateLimit ?? DEFAULT_SANDBOX_RATE_LIMIT)
      : undefined;
  const apiKeys = kept ? [kept.apiKey] : configuredKeys();
  const baseUrl = kept?.sandbox.baseUrl ?? clinikoUrl ?? process.env.CLINIKO_BASE_URL;
  const { startEmulators } = await import('../local/emulators.js');
  const { dynamoStatusStore } = await import('../../src/adapters/aws/dynamo-status-store.js');
  const emulators = await startEmulators({ statePath: join(stateDir, 'status-table') }).catch(
    async (err: unknown) => {
      await kept?.close();
      throw err;
    },
  );
  const dynamo = new DynamoDBClient({
    endpoint: emulators.endpoints.dynamodb,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const tables = (await dynamo.send(new ListTablesCommand({}))).TableNames ?? [];
  const table = tables.find((t) => t.endsWith('-local'));
  if (!table) {
    await emulators.stop();
    await kept?.close();
    throw new UsageError(
      `${stateDir} holds no status table: rollback needs a live run made with this --state-dir`,
    );
  }
  const reportDir = record.reportDir ?? join(stateDir, 'rollbacks', runId);
  return {
    store: dynamoStatusStore(table, dynamo),
    credentials: {
      apiKeys,
      ...(baseUrl ? { baseUrl } : {}),
      ...(process.env.CLINIKO_USER_AGENT ? { userAgent: process.env.CLINIKO_USER_AGENT } : {}),
    },
    where: stateDir,
    save: async (report) => {
      await mkdir(reportDir, { recursive: true });
      // Every rollback keeps its own report, numbered, none overwritten (issue 23): `wx` refuses a
      // name already taken, so the next number is tried.
      for (let n = 1; ; n++) {
        const json = join(reportDir, `rollback-${n}.json`);
        try {
          await writeFile(json, `${JSON.stringify(report, null, 2)}\n`, { flag: 'wx' });
        } catch (err) {
          if ((err as { code?: string }).code === 'EEXIST') continue;
          throw err;
        }
        await writeFile(join(reportDir, `rollback-${n}.csv`), rollbackCsv(report));
        return json;
      }
    },
    close: async () => {
      dynamo.destroy();
      await emulators.stop();
      await kept?.close();
    },
  };
}

/**
 * A deployed stack: its status table, the clinic's keys in Secrets Manager (the secret named by the
 * stack's prefix and the run's clinic), reports in its bucket; every client in `region` when given.
 */
async function openDeployed(
  stackName: string,
  runId: string,
  flags: Pick<RollbackOptions, 'region' | 'profile'>,
): Promise<Opened> {
  const { resolveAwsTarget, clientConfig } = await import('./aws-target.js');
  const target = await resolveAwsTarget(flags);
  const { deployedStack } = await import('./deployed-stack.js');
  const { dynamoStatusStore } = await import('../../src/adapters/aws/dynamo-status-store.js');
  const { SecretsManagerSource } = await import('../../src/adapters/aws/secrets-source.js');
  const { S3BlobStore } = await import('../../src/adapters/aws/s3-blob-store.js');
  const { secretPrefix } = await import('../../lib/migration-stack.js');
  const { keys } = await import('../../src/ports/bucket-keys.js');
  const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const { S3Client } = await import('@aws-sdk/client-s3');
  const aws = clientConfig(target);
  const stack = await deployedStack(stackName, target);
  const dynamo = new DynamoDBClient(aws);
  const store = dynamoStatusStore(stack.table, dynamo);
  const run = await store.getRun(runId).catch(() => {
    throw new UsageError(`run ${runId} is not in stack ${stackName}'s table`);
  });
  const secrets = new SecretsManagerClient(aws);
  const credentials = await new SecretsManagerSource(secretPrefix(stackName), secrets)
    .credentials(run.clinicId)
    .catch((err: Error) => {
      throw new UsageError(
        `the Cliniko keys of clinic ${run.clinicId} are not readable from Secrets Manager (${secretPrefix(stackName)}${run.clinicId}): ${err.message}`,
      );
    });
  const s3 = new S3Client({ ...aws, forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true' });
  return {
    store,
    credentials,
    where: `stack ${stackName}`,
    save: async (report) => {
      const blobs = new S3BlobStore(s3);
      const key = keys.report(run.clinicId, runId, 'rollback.json');
      await blobs.putJson(stack.bucket, key, report);
      await blobs.putText(
        stack.bucket,
        keys.report(run.clinicId, runId, 'rollback.csv'),
        rollbackCsv(report),
        'text/csv; charset=utf-8',
      );
      return `s3://${stack.bucket}/${key}`;
    },
    close: async () => {
      dynamo.destroy();
      secrets.destroy();
      s3.destroy();
    },
  };
}
