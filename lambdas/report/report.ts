import type { ClinikoClient } from '../../src/cliniko/client.js';
import { SIGNED_OFF_TAG } from '../../src/core/approval.js';
import {
  ENTITY_KEYS,
  type EntityCounts,
  type EntityKey,
  emptyEntities,
  isSupportEntity,
  type SupportEntity,
} from '../../src/core/entities.js';
import type { Problem } from '../../src/core/problem.js';
import { Problems, sortProblems } from '../../src/core/problem.js';
import { DateOrderEvidence } from '../../src/core/values.js';
import { arrivalCosts, mergeAttended } from '../../src/mapping/arrivals.js';
import type { BlobStore } from '../../src/ports/blobs.js';
import { batchName, keys } from '../../src/ports/bucket-keys.js';
import type { IdMap } from '../../src/ports/id-map.js';
import type { OutcomeStore } from '../../src/ports/outcomes.js';
import type { DryRunRegistry, RequestCounter, RunInfo, RunStore } from '../../src/ports/runs.js';
import type { WriteLedger } from '../../src/ports/write-ledger.js';
import {
  accountKeys,
  RECONCILE_ORDER,
  type ReconcileOutput,
  ReconcileSummary,
} from '../../src/reconcile/resources.js';
import { AidsSnapshotSchema } from '../../src/report/aids-snapshot.js';
import { type AidsSnapshot, type ApprovalAids, approvalAids } from '../../src/report/approval-aids.js';
import { type AuditWrite, auditCsv } from '../../src/report/audit.js';
import { busyWeekInCliniko } from '../../src/report/busy-week.js';
import { clientIdsOf, namesFromRunExport, withClientNames } from '../../src/report/named-clients.js';
import { reportHtml, withChecklist } from '../../src/report/report-files.js';
import { projectRun } from '../../src/report/run-projection.js';
import { blockingReasons, problemsCsv, type RunReport } from '../../src/report/run-report.js';
import { dateOrderProblems } from '../../src/source/export-checks.js';
import type { SourceProfile } from '../../src/source/profile.js';
import type { ReportInput, ReportOutput } from './io.js';

/**
 * One line saying where a run stopped and why, from a Catch's `Error` and `Cause` (a Lambda's
 * `Cause` is JSON holding `errorMessage` and a stack trace: only the message is kept).
 */
export function failureLine(input: Pick<ReportInput, 'executionFailure' | 'failedState'>): string {
  const error = input.executionFailure?.Error ?? 'Error';
  let cause = input.executionFailure?.Cause ?? '';
  try {
    const parsed: unknown = JSON.parse(cause);
    if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed)
      cause = String((parsed as { errorMessage: unknown }).errorMessage);
  } catch {
    // a plain-text cause
  }
  const message = cause.split('\n')[0]?.trim() ?? '';
  return `the run stopped in ${input.failedState ?? 'a step'}: ${error}${message ? `: ${message}` : ''}`;
}

export interface ReportDeps {
  readonly store: RunStore & DryRunRegistry & RequestCounter & OutcomeStore & IdMap & WriteLedger;
  readonly blobs: BlobStore;
  readonly now: () => Date;
  /** Reads the busiest week back from Cliniko after a live run. */
  readonly cliniko?: (run: RunInfo) => Promise<ClinikoClient>;
  /** The stack's AWS region (the Lambda's AWS_REGION): the dry run's projected cost is priced in it. */
  readonly region?: string | undefined;
  /** How the export is read: the report names the clients it mentions from its clients table. */
  readonly profile: SourceProfile;
}

/** A problem of the whole run (not of a row): the export's key stands for the file, row 0. */
function runProblem(input: ReportInput, code: string, field: string, message: string): Problem {
  return {
    entity: 'run',
    sourceId: '',
    file: input.exportKey ?? '',
    row: 0,
    field,
    code,
    severity: 'error',
    message,
  };
}

/**
 * The report of a run that stopped before it was recorded (Preflight refused it, or the execution
 * failed first): status `failed`, nothing done, the given problems (docs/REPORT.md).
 */
function stoppedBeforeRecorded(
  input: ReportInput,
  finishedAt: string,
  reportKey: string,
  problems: Problem[],
): { report: RunReport; output: ReportOutput } {
  const report: RunReport = {
    runId: input.runId,
    mode: input.mode ?? 'dry-run',
    status: 'failed',
    source: { system: 'gensolve', file: input.exportKey?.split('/').pop() ?? '', sha256: '' },
    startedAt: finishedAt,
    finishedAt,
    entities: emptyEntities(),
    excluded: {},
    problems,
    cliniko: { requests: 0, byStatus: {}, keys: 0, target: '' },
    summary: { rowsRead: 0, errors: problems.length, warnings: 0, infos: 0, seconds: 0 },
  };
  return { report, output: { runId: input.runId, status: 'failed', reportKey, failed: 0 } };
}

export async function buildReport(
  input: ReportInput,
  deps: ReportDeps,
): Promise<{ report: RunReport; output: ReportOutput; run?: RunInfo; audit?: AuditWrite[] }> {
  const finishedAt = deps.now().toISOString();
  const reportKey = keys.report(input.clinicId, input.runId, 'report.json');
  if (input.failures?.length) {
    const problems = input.failures.map((message) => runProblem(input, 'PREFLIGHT_FAILED', '', message));
    return stoppedBeforeRecorded(input, finishedAt, reportKey, problems);
  }

  const failure: Problem | undefined = input.executionFailure
    ? runProblem(input, 'EXECUTION_FAILED', input.failedState ?? '', failureLine(input))
    : undefined;
  let run: RunInfo;
  try {
    run = await deps.store.getRun(input.runId);
  } catch (err) {
    // The run stopped before it was recorded: the report says so, with nothing done.
    if (!failure) throw err;
    return stoppedBeforeRecorded(input, finishedAt, reportKey, [failure]);
  }
  const entities = emptyEntities();
  const enqueued: Partial<Record<EntityKey, number>> = {};
  const evidence = new DateOrderEvidence();
  const problems: Problem[] = [
    ...(failure ? [failure] : []),
    ...((await deps.blobs.getJson(run.bucket, keys.problems(run.runId, 'preflight'), Problems)) ?? []),
    ...((await deps.blobs.getJson(run.bucket, keys.problems(run.runId, 'plan'), Problems)) ?? []),
  ];
  // What reconciliation read from the account before writing, and what it found out of step.
  const reconciliation: Record<string, Omit<ReconcileOutput, 'resource'>> = {};
  for (const name of RECONCILE_ORDER) {
    const summary = await deps.blobs.getJson(
      run.bucket,
      accountKeys.summary(run.runId, name),
      ReconcileSummary,
    );
    if (!summary) continue;
    reconciliation[name] = summary;
    problems.push(
      ...((await deps.blobs.getJson(run.bucket, keys.problems(run.runId, `reconcile-${name}`), Problems)) ??
        []),
    );
  }
  const aidSnapshots: AidsSnapshot[] = [];
  for (const { batchKey, counts, evidence: ev } of await deps.store.listBatchCounts(run.runId)) {
    if (ev) evidence.merge(ev);
    if (!batchKey.startsWith('plan:')) {
      const snap = await deps.blobs.getJson(
        run.bucket,
        keys.aids(run.runId, batchName(batchKey)),
        AidsSnapshotSchema,
      );
      if (snap) aidSnapshots.push(snap);
    }
    if (isSupportEntity(counts.entity)) continue;
    const c = entities[counts.entity];
    c.source += counts.source;
    c.planned += counts.planned;
    c.skipped += counts.skipped;
    c.invalid += counts.invalid;
    c.failed += counts.failed;
    c.alreadyPresent += counts.alreadyPresent ?? 0;
    c.updated += counts.updated ?? 0;
    enqueued[counts.entity] = (enqueued[counts.entity] ?? 0) + counts.enqueued;
    if (!batchKey.startsWith('plan:'))
      problems.push(
        ...((await deps.blobs.getJson(run.bucket, keys.problems(run.runId, batchName(batchKey)), Problems)) ??
          []),
      );
  }
  problems.push(...dateOrderProblems(evidence));

  // Writes: exact totals, and a problem for each refusal or dead-lettered record.
  const written = new Set<string>();
  const lastErrors = new Map<string, string>();
  /** Kept for audit.csv, so the writes are listed once. */
  const audit: AuditWrite[] = [];
  const supportRecords: Partial<
    Record<SupportEntity, { created: number; alreadyPresent: number; failed: number }>
  > = {};
  for await (const w of deps.store.listWrites(run.runId)) {
    const key = `${w.entity}#${w.sourceId}`;
    if (w.outcome === undefined) {
      if (w.lastError) lastErrors.set(key, w.lastError);
      continue;
    }
    written.add(key);
    audit.push({
      entity: w.entity,
      sourceId: w.sourceId,
      outcome: w.outcome,
      ...(w.clinikoId ? { clinikoId: w.clinikoId } : {}),
      ...(w.at ? { at: w.at } : {}),
    });
    if (isSupportEntity(w.entity)) {
      const s = supportRecords[w.entity] ?? { created: 0, alreadyPresent: 0, failed: 0 };
      supportRecords[w.entity] = s;
      if (w.outcome === 'created') s.created++;
      else if (w.outcome === 'failed') s.failed++;
      else s.alreadyPresent++;
      continue;
    }
    const c = entities[w.entity];
    if (w.outcome === 'created') c.created++;
    else if (w.outcome === 'alreadyPresent') c.alreadyPresent++;
    else if (w.outcome === 'updated') {
      c.alreadyPresent++;
      c.updated++;
    } else if (w.outcome === 'failed') c.failed++;
    if (w.outcome === 'failed') {
      problems.push({
        entity: w.entity,
        sourceId: w.sourceId,
        file: w.file ?? '',
        row: w.row ?? 0,
        field: w.field ?? '',
        code: w.code ?? 'WRITE_FAILED',
        severity: 'error',
        message: `Cliniko refused it: ${w.reason ?? 'unknown reason'}`,
      });
    } else if (w.code && w.reason) {
      // Written, with something the clinic must know (an appointment kept under its patient).
      problems.push({
        entity: w.entity,
        sourceId: w.sourceId,
        file: w.file ?? '',
        row: w.row ?? 0,
        field: w.field ?? '',
        code: w.code,
        severity: 'warning',
        message: w.reason,
      });
    }
  }
  // One pass over the outcomes: which rows this export holds (for records missing from it), and in
  // a live run which enqueued records never got written (they are in the dead-letter queue).
  const inExport = new Map<EntityKey, Set<string>>(ENTITY_KEYS.map((k) => [k, new Set<string>()]));
  for await (const o of deps.store.listOutcomes(run.runId)) {
    inExport.get(o.entity)?.add(o.sourceId);
    if (run.mode === 'live') {
      if (o.outcome !== 'planned' || written.has(`${o.entity}#${o.sourceId}`)) continue;
      if (!(enqueued[o.entity] ?? 0)) continue;
      const c = entities[o.entity];
      c.failed++;
      const last = lastErrors.get(`${o.entity}#${o.sourceId}`);
      problems.push({
        entity: o.entity,
        sourceId: o.sourceId,
        file: o.file,
        row: o.row,
        field: '',
        code: 'DEAD_LETTERED',
        ...(o.clientSourceId ? { clientSourceId: o.clientSourceId } : {}),
        severity: 'error',
        message: `not written after every retry; the message is in the dead-letter queue${last ? ` (last error: ${last})` : ''}`,
      });
    }
  }
  // Records an earlier run of this clinic wrote that this export no longer holds: reported, never
  // deleted (the clinic decides). A notes PDF's own key is not a source row; its notes are.
  for (const entity of ENTITY_KEYS) {
    const seen = inExport.get(entity) ?? new Set<string>();
    for await (const { sourceId, entry } of deps.store.listIdMap(run.scope, entity)) {
      if (seen.has(sourceId) || sourceId.startsWith('notes:') || entry.runId === 'found-in-cliniko') continue;
      entities[entity].missingFromExport++;
      problems.push({
        entity,
        sourceId,
        file: '',
        row: 0,
        field: '',
        code: 'MISSING_FROM_EXPORT',
        severity: 'info',
        message: `written to Cliniko (id ${entry.clinikoId}) by an earlier run, but not in this export; left in Cliniko`,
      });
    }
  }

  // In a live run what was enqueued is no longer "planned": it ended created, present or failed.
  for (const k of ENTITY_KEYS) {
    const c: EntityCounts = entities[k];
    if (run.mode === 'live')
      c.planned = Math.max(0, c.source - c.created - c.alreadyPresent - c.skipped - c.invalid - c.failed);
  }
  let aids = approvalAids(aidSnapshots, problems, {
    practitioner: (id) => run.practitioners[id]?.name,
    location: (id) => run.locations[id]?.name,
  });
  if (run.mode === 'live' && aids.busiestWeek && deps.cliniko) {
    try {
      const busiestWeek = await busyWeekInCliniko(await deps.cliniko(run), aids.busiestWeek, run);
      aids = { ...aids, busiestWeek };
    } catch (err) {
      // The report must not fail on a read-back: the source counts stand, and the reason is shown.
      problems.push({
        entity: 'appointments',
        sourceId: '',
        file: '',
        row: 0,
        field: '',
        code: 'BUSY_WEEK_NOT_READ',
        severity: 'info',
        message: `the busiest week could not be read back from Cliniko (${(err as Error).name})`,
      });
    }
  }
  // Names beside the client ids the report mentions (issue 26), read from the export now: the
  // status table holds ids and hashes only (issue 23).
  let shown: { aids: ApprovalAids; problems: Problem[] } = { aids, problems };
  try {
    const names = await namesFromRunExport(deps.blobs, run, deps.profile, clientIdsOf(aids, problems));
    shown = withClientNames(aids, problems, names);
  } catch (err) {
    problems.push({
      entity: 'run',
      sourceId: '',
      file: '',
      row: 0,
      field: '',
      code: 'CLIENT_NAMES_NOT_READ',
      severity: 'info',
      message: `clients are shown by id only: their names could not be read from the export (${(err as Error).message})`,
    });
    shown = { aids, problems };
  }
  const byStatus = await deps.store.requests(run.runId);
  const failed = ENTITY_KEYS.reduce((n, k) => n + entities[k].failed, 0);
  const count = (s: string) => problems.filter((p) => p.severity === s).length;
  // A dry run that cannot go live as configured is blocked, whatever else it found.
  const status = failure
    ? 'failed'
    : run.mode === 'dry-run' && blockingReasons(problems).length
      ? 'blocked'
      : 'succeeded';
  const report: RunReport = {
    runId: run.runId,
    mode: run.mode,
    status,
    source: { system: 'gensolve', file: run.exportFile, sha256: run.sha256 },
    startedAt: run.startedAt,
    finishedAt,
    timeZone: run.defaultTimeZone,
    entities,
    excluded: run.excluded ?? {},
    ...(Object.keys(supportRecords).length ? { supportRecords } : {}),
    problems: sortProblems(shown.problems),
    arrivals: arrivalCosts(mergeAttended(aidSnapshots.map((a) => a.attendedByDay)), {
      setting: run.config.markArrivals,
      exportDate: run.manifest?.exportedAt ?? run.startedAt,
      keys: run.clinikoUsers.length,
    }),
    ...(run.mode === 'dry-run'
      ? {
          projection: projectRun({
            planned: entities,
            config: run.config,
            keys: run.clinikoUsers.length,
            region: deps.region,
            // what this dry run read of Cliniko (Preflight, reconciliation) the live run reads again
            reads: Object.values(byStatus).reduce((a, b) => a + b, 0),
          }),
        }
      : {}),
    approvalAids: shown.aids,
    reconciliation,
    cliniko: {
      requests: Object.values(byStatus).reduce((a, b) => a + b, 0),
      byStatus,
      keys: Math.max(1, run.clinikoUsers.length),
      target: run.target,
      reconciliationRequests: Object.values(reconciliation).reduce((n, r) => n + r.requests, 0),
      account: {
        shard: run.account.shard,
        businesses: run.account.businesses,
        id: run.account.id,
        ...(run.account.name ? { name: run.account.name } : {}),
      },
    },
    summary: {
      rowsRead:
        ENTITY_KEYS.reduce((n, k) => n + entities[k].source, 0) +
        Object.values(run.excluded ?? {}).reduce((a, b) => a + b, 0),
      errors: count('error'),
      warnings: count('warning'),
      infos: count('info'),
      seconds: (Date.parse(finishedAt) - Date.parse(run.startedAt)) / 1000,
    },
  };
  return { report, output: { runId: run.runId, status, reportKey, failed }, run, audit };
}

export async function writeReport(input: ReportInput, deps: ReportDeps): Promise<ReportOutput> {
  const { report: built, output, run, audit } = await buildReport(input, deps);
  const report = withChecklist(built);
  const at = (file: string) => keys.report(input.clinicId, input.runId, file);
  await deps.blobs.putJson(input.bucket, at('report.json'), report);
  await deps.blobs.putText(
    input.bucket,
    at('problems.csv'),
    problemsCsv(report.problems),
    'text/csv; charset=utf-8',
  );
  await deps.blobs.putText(input.bucket, at('report.html'), reportHtml(report), 'text/html; charset=utf-8');
  if (run)
    await deps.blobs.putText(
      input.bucket,
      at('audit.csv'),
      auditCsv(run, audit ?? []),
      'text/csv; charset=utf-8',
    );
  if (input.executionFailure) {
    // A run that stopped is neither approvable nor finished: it is recorded failed, and its
    // export stays for the next attempt.
    if (run) await deps.store.updateRunStatus(input.runId, 'failed', { finishedAt: report.finishedAt });
    return output;
  }
  // A finished dry run is what an approval refers to: remembered by the export's sha256.
  if (run?.mode === 'dry-run') await deps.store.recordDryRun(run.scope, run.sha256, run.runId);
  // A live run that wrote everything ends the export's use: tagged, the lifecycle removes it
  // after the grace period. With failures it stays, so the same export can be run again.
  if (run?.mode === 'live' && !output.failed) {
    await deps.blobs.tag(run.bucket, run.exportKey, { [SIGNED_OFF_TAG]: 'true' });
    if (run.approvalKey) await deps.blobs.tag(run.bucket, run.approvalKey, { [SIGNED_OFF_TAG]: 'true' });
  }
  if (!input.failures?.length)
    await deps.store.updateRunStatus(
      input.runId,
      output.status === 'blocked' ? 'blocked' : output.failed ? 'finished-with-failures' : 'succeeded',
      {
        finishedAt: report.finishedAt,
      },
    );
  return output;
}
