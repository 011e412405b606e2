import type { MigrationConfig } from '../config/migration-config.js';
import type { EntityCounts, EntityKey } from '../core/entities.js';
import { RECONCILE_ORDER } from '../reconcile/resources.js';
import { AWS_PRICES_READ, type AwsPrices, pricesFor } from './aws-prices.js';
import { estimateLive, PER_KEY_PER_MINUTE, REQUESTS_PER_ATTACHMENT } from './live-estimate.js';

/**
 * What a live run of a dry run's plan will take on AWS (issue 22): how long, how many Step
 * Functions executions, and what it costs, from the run's own counts (records planned per entity,
 * Cliniko requests as {@link estimateLive} counts them, batches) and the stack's configuration
 * ({@link STACK_SHAPE}). Prices come from aws-prices.ts only.
 *
 * The model, per AWS service (each figure's assumption is a named constant below):
 * - **Step Functions** (Standard): the parent execution's transitions (the fixed states, each
 *   phase's checks: Wait, CheckPhase, Choice) and each Distributed Map child execution's (one per
 *   batch, one per reconciled resource). A phase is checked with a wait computed from the work
 *   left (half of it, clamped to {@link STACK_SHAPE}.waitSeconds, as CheckPhase computes it), and
 *   the run carries on in a fresh execution after `pollsPerExecution` checks of one phase.
 * - **Lambda**: invocations and GB-seconds per function at its configured memory. The writers
 *   are billed for the whole time they write: one writer per key keeps its lane full and waits
 *   for its tokens (up to 2 s) inside the invocation, so writer GB-s follow the requests, not keys.
 * - **SQS**: a write command per record, sent, received and deleted ten at a time; an attachment
 *   re-queued once while Cliniko processes it; the writers' event source long-polling while the
 *   run writes.
 * - **DynamoDB** on-demand: per record its outcome, claim, id map entry and ledger marks; per
 *   Cliniko request the shared token bucket's read and conditional write; per check the ledger's
 *   counters. Items stay under 1 KB (no item grows with the run).
 * - **S3**: a batch file per batch (written by Plan, read by a mapper), a manifest per Map, a
 *   notes PDF per bundle (written, then read by a writer), attachments read by range from the
 *   export, the report's files; working files stored for the run and the days they are kept.
 * - **Secrets Manager** per invocation of a function that reads keys (cached per container);
 *   **KMS** for the customer managed key (the bucket key and the SQS/DynamoDB data-key caches
 *   keep it to a few requests per function container and five minutes); **CloudWatch Logs** for
 *   the state machine's logged transitions and the functions' lines.
 */

/** The pipeline's Lambda functions, named as in lib/constructs/functions.ts (and StartRun). */
export const PROJECTED_FUNCTIONS = [
  'startRun',
  'preflight',
  'reconcile',
  'plan',
  'mapBatch',
  'writer',
  'checkPhase',
  'report',
] as const;
export type ProjectedFunction = (typeof PROJECTED_FUNCTIONS)[number];

/** The phases in the order they run, as src/batch/row-processing.ts PHASES. */
export const PROJECTED_PHASES = ['setup', 'patients', 'appointments', 'documents'] as const;
export type ProjectedPhase = (typeof PROJECTED_PHASES)[number];

/**
 * Checks of one phase an execution makes before the run carries on in a fresh execution (the
 * state machine's constant of the same name; a check is {@link HISTORY_EVENTS_PER_POLL} events of
 * the execution's 25,000).
 */
export const POLLS_PER_EXECUTION = 100;
/** History events of one check: Wait entered/exited, the CheckPhase task's five, the Choice's two. */
export const HISTORY_EVENTS_PER_POLL = 9;

/** What of the deployed stack a projection depends on (lib/constructs, src/core/environment.ts). */
export interface StackShape {
  /** Each function's configured memory, MB (lib/constructs/functions.ts, state-machine.ts). */
  readonly memoryMb: Readonly<Record<ProjectedFunction, number>>;
  /** Rows per batch Plan writes (PLAN_BATCH_SIZE, default 500). */
  readonly batchSize: number;
  readonly pollsPerExecution: number;
  readonly historyEventsPerPoll: number;
  /** Bounds of the wait between two checks of a phase, seconds. */
  readonly waitSeconds: { readonly min: number; readonly max: number };
  /** Days working files are kept after they are written (the bucket's `work/` lifecycle rule). */
  readonly workingFileDays: number;
}

export const STACK_SHAPE: StackShape = {
  memoryMb: {
    startRun: 256,
    preflight: 1024,
    reconcile: 1024,
    plan: 1024,
    mapBatch: 1536,
    writer: 512,
    checkPhase: 256,
    report: 1024,
  },
  batchSize: 500,
  pollsPerExecution: POLLS_PER_EXECUTION,
  historyEventsPerPoll: HISTORY_EVENTS_PER_POLL,
  waitSeconds: { min: 10, max: 3600 },
  workingFileDays: 7,
};

// Assumptions of the model, each a rounded figure of the code's behaviour or of a local run.
/** Transitions of the parent outside the checks: Preflight, Reconcile, Plan, each phase's Map, Pass and Choices, Report. */
const FIXED_TRANSITIONS = 30;
/** Transitions of one Distributed Map child execution (its one task, then its end). */
const TRANSITIONS_PER_CHILD = 2;
/** Transitions of one check: Wait, CheckPhase, Choice. */
const TRANSITIONS_PER_POLL = 3;
/** Transitions of carrying on in a fresh execution: the start task, Succeed, and the new one's two Choices. */
const TRANSITIONS_PER_CONTINUATION = 4;
/** Seconds of each function's invocation (per row, per PDF, per record where it scales). */
const SECONDS = {
  startRun: 0.5,
  preflight: 10,
  reconcilePerResource: 5,
  planBase: 2,
  planPerRow: 0.0001,
  mapBatchBase: 1,
  mapBatchPerRow: 0.004,
  mapBatchPerPdf: 0.15,
  checkPhase: 0.5,
  reportBase: 2,
  reportPerRecord: 0.0005,
} as const;
/** Records one writer invocation takes (the event source's batch size). */
const WRITER_BATCH = 10;
/** SQS: a command sent, received and deleted ten at a time; an attachment re-queued once (single send, receive, delete). */
const SQS_REQUESTS_PER_COMMAND = 3 / 10;
const SQS_REQUESTS_PER_REQUEUE = 3;
/** The writers' event source long-polls (20 s) with five pollers while there is work: receives a minute. */
const SQS_IDLE_RECEIVES_PER_MINUTE = 15;
/** DynamoDB per record: outcome, claim, id map entry, ledger mark and counter (writes); id-map and parent look-ups, the report's read (reads). */
const WRITE_UNITS_PER_RECORD = 5;
const READ_UNITS_PER_RECORD = 3;
/** DynamoDB per Cliniko request: the token bucket's strongly consistent read and conditional write. */
const WRITE_UNITS_PER_REQUEST = 1;
const READ_UNITS_PER_REQUEST = 1;
/** DynamoDB per batch (its counts and enqueued counters) and per check (the ledger's counters). */
const WRITE_UNITS_PER_BATCH = 2;
const READ_UNITS_PER_POLL = 4;
/** S3 GETs to stream one attachment out of the export (central directory, local header, body). */
const S3_GETS_PER_ATTACHMENT = 3;
/** The report's files (report.json, report.html, problems.csv, audit.csv). */
const S3_REPORT_PUTS = 4;
/** Bytes of a row in a batch file, of a notes PDF, and of one log line (a function's or a transition's). */
const BYTES_PER_ROW = 400;
const BYTES_PER_PDF = 60_000;
const LOG_BYTES_PER_LINE = 400;
/** Log lines per record written, per invocation (start, end, report), per state transition. */
const LOG_LINES_PER_RECORD = 2;
const LOG_LINES_PER_INVOCATION = 3;
/** KMS requests per function container and per five minutes of the run (data keys are cached that long). */
const KMS_REQUESTS_PER_FIVE_MINUTES = 4;

export interface PhaseProjection {
  readonly phase: ProjectedPhase;
  /** Cliniko requests the phase's records take. */
  readonly requests: number;
  /** Minutes at the projection's keys. */
  readonly minutes: number;
  readonly batches: number;
  /** Checks of the phase (Wait → CheckPhase → Choice). */
  readonly polls: number;
}

export interface CostBreakdown {
  readonly stepFunctions: number;
  readonly lambda: number;
  readonly sqs: number;
  readonly dynamodb: number;
  readonly s3: number;
  readonly secretsManager: number;
  readonly kms: number;
  readonly logs: number;
  /** USD, the sum of the above. */
  readonly total: number;
}

export interface RunUsage {
  readonly stateTransitions: number;
  readonly lambda: Readonly<
    Record<ProjectedFunction, { readonly invocations: number; readonly gbSeconds: number }>
  >;
  readonly sqsRequests: number;
  readonly dynamoWriteUnits: number;
  readonly dynamoReadUnits: number;
  readonly s3Puts: number;
  readonly s3Gets: number;
  readonly s3GbMonths: number;
  readonly secretsManagerCalls: number;
  readonly kmsRequests: number;
  readonly logsGb: number;
}

/** The projection at one number of keys. */
export interface KeysProjection {
  readonly keys: number;
  readonly minutes: number;
  readonly executions: number;
  /** USD. */
  readonly cost: number;
}

/** report.json `projection`: a dry run's live run on AWS. */
export interface RunProjection {
  readonly requests: number;
  readonly keys: number;
  /** Minutes of writing at `keys` keys (Cliniko's rate limit decides). */
  readonly minutes: number;
  /** Step Functions executions of the run (1 + its continuations). */
  readonly executions: number;
  /** Distributed Map child executions (one per batch and per reconciled resource). */
  readonly mapChildExecutions: number;
  /** The most history events of the phases' checks in one execution (AWS's limit: 25,000). */
  readonly largestExecutionPollEvents: number;
  readonly phases: readonly PhaseProjection[];
  readonly usage: RunUsage;
  /** USD at `region`'s prices. */
  readonly cost: CostBreakdown;
  readonly region: string;
  /** False: the region's figures are us-east-1's list prices (aws-prices.ts). */
  readonly regionalPrices: boolean;
  /** When the prices were read (yyyy-mm-dd). */
  readonly pricesRead: string;
  /** The same run at 1, 4 and 8 keys (and at `keys`). */
  readonly atKeys: readonly KeysProjection[];
  /** The export's size the projection counted (bytes), when it was known. */
  readonly exportBytes?: number;
}

export interface ProjectionInput {
  readonly planned: Record<EntityKey, Pick<EntityCounts, 'planned'> & Partial<Pick<EntityCounts, 'updated'>>>;
  readonly config: Pick<MigrationConfig, 'clinicalNotes'>;
  readonly keys: number;
  /**
   * Cliniko requests the dry run made itself (Preflight, reconciliation), which the live run makes
   * again before writing; see estimateLive.
   */
  readonly reads?: number | undefined;
  /** AWS region of the stack (prices); default aws-prices.ts DEFAULT_PRICE_REGION. */
  readonly region?: string | undefined;
  /** The export zip's size, bytes, when known: its reads and its storage during the run. */
  readonly exportBytes?: number | undefined;
  readonly stack?: StackShape;
}

/**
 * Checks of a phase that writes for `seconds`, at a steady rate: the first wait is the minimum,
 * the second doubles it (no rate measured yet), every later one is half the time left, clamped
 * to `bounds`; the check at or after the end finds the phase done.
 */
export function pollsForPhase(seconds: number, bounds: StackShape['waitSeconds']): number {
  const clamp = (s: number) => Math.min(bounds.max, Math.max(bounds.min, s));
  let at = 0;
  let wait = bounds.min;
  let polls = 0;
  for (;;) {
    at += wait;
    polls += 1;
    if (at >= seconds) return polls;
    wait = polls === 1 ? clamp(wait * 2) : clamp((seconds - at) / 2);
  }
}

/**
 * The most checks one execution makes: the phases' checks follow one another in an execution
 * until a phase reaches `perExecution` of its own checks and the run carries on in a fresh
 * execution, which goes on with that phase's next checks (and the phases after it).
 */
export function largestExecutionPolls(phasePolls: readonly number[], perExecution: number): number {
  let current = 0;
  let largest = 0;
  for (const polls of phasePolls) {
    let left = polls;
    let first = true;
    while (left > 0) {
      const chunk = Math.min(left, perExecution);
      current = first ? current + chunk : chunk;
      largest = Math.max(largest, current);
      left -= chunk;
      first = false;
    }
  }
  return largest;
}

const KEY_COUNTS = [1, 4, 8] as const;

/**
 * The projection of a live run of `planned` records (a dry run's counts) at `keys` keys, with
 * its usage of each AWS service and its cost at `region`'s prices (USD). Pure: the same counts
 * give the same figures.
 */
export function projectRun(input: ProjectionInput): RunProjection {
  const at = (keys: number) => projectAtKeys(input, keys);
  const main = at(input.keys);
  const atKeys = [...new Set([...KEY_COUNTS, main.keys])]
    .sort((a, b) => a - b)
    .map((k) => (k === main.keys ? main : at(k)))
    .map((p) => ({ keys: p.keys, minutes: p.minutes, executions: p.executions, cost: p.cost.total }));
  return { ...main, atKeys, ...(input.exportBytes !== undefined ? { exportBytes: input.exportBytes } : {}) };
}

function projectAtKeys(input: ProjectionInput, keysWanted: number): Omit<RunProjection, 'atKeys'> {
  const stack = input.stack ?? STACK_SHAPE;
  const { region, prices, regional } = pricesFor(input.region);
  const live = estimateLive(input.planned, input.config, keysWanted, input.reads);
  const keys = live.keys;
  const p = (k: EntityKey) => input.planned[k].planned;
  const mode: string = input.config.clinicalNotes;
  const notes = p('clinicalNotes');
  const pdfs = mode === 'pdf-per-note' ? notes : mode === 'native' ? 0 : Math.min(notes, p('patients'));
  const native = mode.startsWith('native');
  const attachments = pdfs + p('letters') + p('fileUploads');
  const records =
    p('patients') +
    p('contacts') +
    p('appointmentTypes') +
    p('appointments') +
    (native ? notes : 0) +
    attachments;
  const rows = records + (native ? 0 : notes);
  const batchesOf = (n: number) => Math.ceil(n / stack.batchSize);

  // Per phase: its requests (as estimateLive counts them) and batches. Documents share the
  // appointments phase unless notes are native (they go on their booking, written first).
  const docRequests = (native ? notes : 0) + REQUESTS_PER_ATTACHMENT * attachments;
  const docBatches = batchesOf(notes) + batchesOf(p('letters')) + batchesOf(p('fileUploads'));
  const phaseWork: Record<ProjectedPhase, { requests: number; batches: number }> = {
    setup: {
      requests: p('contacts') + p('appointmentTypes'),
      batches: batchesOf(p('contacts')) + batchesOf(p('appointmentTypes')),
    },
    // a patient's follow-ups (medical alerts, referral) are about half a request more
    patients: { requests: Math.round(p('patients') * 1.5), batches: batchesOf(p('patients')) },
    appointments: {
      requests: p('appointments') + (native ? 0 : docRequests),
      batches: batchesOf(p('appointments')) + (native ? 0 : docBatches),
    },
    documents: { requests: native ? docRequests : 0, batches: native ? docBatches : 0 },
  };
  const perMinute = PER_KEY_PER_MINUTE * keys;
  const phases: PhaseProjection[] = PROJECTED_PHASES.map((phase) => {
    const w = phaseWork[phase];
    const minutes = w.requests / perMinute;
    return {
      phase,
      requests: w.requests,
      minutes,
      batches: w.batches,
      polls: w.batches ? pollsForPhase(minutes * 60, stack.waitSeconds) : 0,
    };
  });
  const polls = phases.reduce((n, ph) => n + ph.polls, 0);
  const continuations = phases.reduce(
    (n, ph) => n + Math.floor(Math.max(0, ph.polls - 1) / stack.pollsPerExecution),
    0,
  );
  const executions = 1 + continuations;
  const batches = phases.reduce((n, ph) => n + ph.batches, 0);
  const resources = RECONCILE_ORDER.length;
  const mapChildExecutions = batches + resources;
  const largestExecutionPollEvents =
    largestExecutionPolls(
      phases.map((ph) => ph.polls),
      stack.pollsPerExecution,
    ) * stack.historyEventsPerPoll;
  const minutes = live.minutes;

  const stateTransitions =
    FIXED_TRANSITIONS +
    polls * TRANSITIONS_PER_POLL +
    continuations * TRANSITIONS_PER_CONTINUATION +
    mapChildExecutions * TRANSITIONS_PER_CHILD;

  const writerInvocations = Math.ceil(records / WRITER_BATCH) + attachments;
  const invocations: Record<ProjectedFunction, number> = {
    startRun: 1,
    preflight: 1,
    reconcile: resources,
    plan: 1,
    mapBatch: batches,
    writer: writerInvocations,
    checkPhase: polls,
    report: 1,
  };
  const seconds: Record<ProjectedFunction, number> = {
    startRun: SECONDS.startRun,
    preflight: SECONDS.preflight,
    reconcile: resources * SECONDS.reconcilePerResource,
    plan: SECONDS.planBase + rows * SECONDS.planPerRow,
    mapBatch: batches * SECONDS.mapBatchBase + rows * SECONDS.mapBatchPerRow + pdfs * SECONDS.mapBatchPerPdf,
    // every lane busy for the whole writing time: requests at one key's rate
    writer: (live.requests / PER_KEY_PER_MINUTE) * 60,
    checkPhase: polls * SECONDS.checkPhase,
    report: SECONDS.reportBase + records * SECONDS.reportPerRecord,
  };
  const lambda = Object.fromEntries(
    PROJECTED_FUNCTIONS.map((f) => [
      f,
      { invocations: invocations[f], gbSeconds: (seconds[f] * stack.memoryMb[f]) / 1024 },
    ]),
  ) as Record<ProjectedFunction, { invocations: number; gbSeconds: number }>;
  const totalInvocations = PROJECTED_FUNCTIONS.reduce((n, f) => n + invocations[f], 0);

  const sqsRequests =
    records * SQS_REQUESTS_PER_COMMAND +
    attachments * SQS_REQUESTS_PER_REQUEUE +
    minutes * SQS_IDLE_RECEIVES_PER_MINUTE +
    polls;
  const dynamoWriteUnits =
    records * WRITE_UNITS_PER_RECORD +
    live.requests * WRITE_UNITS_PER_REQUEST +
    batches * WRITE_UNITS_PER_BATCH;
  const dynamoReadUnits =
    records * READ_UNITS_PER_RECORD + live.requests * READ_UNITS_PER_REQUEST + polls * READ_UNITS_PER_POLL;

  const exportBytes = input.exportBytes ?? 0;
  const s3Puts = batches + PROJECTED_PHASES.length + 1 + pdfs + S3_REPORT_PUTS;
  // Plan reads the export in 8 MiB ranges; mappers read their batches; writers stream attachments.
  const s3Gets =
    Math.ceil(exportBytes / (8 * 1024 * 1024)) +
    batches +
    PROJECTED_PHASES.length +
    1 +
    attachments * S3_GETS_PER_ATTACHMENT;
  const gb = 1024 ** 3;
  const workingBytes = rows * BYTES_PER_ROW + pdfs * BYTES_PER_PDF;
  const runDays = minutes / 60 / 24;
  const s3GbMonths = ((workingBytes + exportBytes) / gb) * ((runDays + stack.workingFileDays) / 30);

  const secretsManagerCalls = 1 + resources + 1 + Math.max(keys, Math.ceil(writerInvocations / 100));
  const kmsRequests =
    Math.ceil(minutes / 5) * KMS_REQUESTS_PER_FIVE_MINUTES * (keys + 1) + totalInvocations / 100;
  const logsGb =
    ((records * LOG_LINES_PER_RECORD + totalInvocations * LOG_LINES_PER_INVOCATION + stateTransitions) *
      LOG_BYTES_PER_LINE) /
    gb;

  const usage: RunUsage = {
    stateTransitions,
    lambda,
    sqsRequests,
    dynamoWriteUnits,
    dynamoReadUnits,
    s3Puts,
    s3Gets,
    s3GbMonths,
    secretsManagerCalls,
    kmsRequests,
    logsGb,
  };
  return {
    requests: live.requests,
    keys,
    minutes,
    executions,
    mapChildExecutions,
    largestExecutionPollEvents,
    phases,
    usage,
    cost: costOf(usage, prices),
    region,
    regionalPrices: regional,
    pricesRead: AWS_PRICES_READ,
  };
}

/** The cost of `usage` at `prices`, USD per service and in total. */
export function costOf(usage: RunUsage, prices: AwsPrices): CostBreakdown {
  const fns = Object.values(usage.lambda);
  const parts = {
    stepFunctions: usage.stateTransitions * prices.stepFunctionsTransition,
    lambda:
      fns.reduce((n, f) => n + f.gbSeconds, 0) * prices.lambdaGbSecond +
      fns.reduce((n, f) => n + f.invocations, 0) * prices.lambdaRequest,
    sqs: usage.sqsRequests * prices.sqsRequest,
    dynamodb:
      usage.dynamoWriteUnits * prices.dynamoWriteRequestUnit +
      usage.dynamoReadUnits * prices.dynamoReadRequestUnit,
    s3:
      usage.s3Puts * prices.s3PutRequest +
      usage.s3Gets * prices.s3GetRequest +
      usage.s3GbMonths * prices.s3GbMonth,
    secretsManager: usage.secretsManagerCalls * prices.secretsManagerApiCall,
    kms: usage.kmsRequests * prices.kmsRequest,
    logs: usage.logsGb * prices.logsGbIngested,
  };
  return { ...parts, total: Object.values(parts).reduce((a, b) => a + b, 0) };
}

/** Money as a clinic reads it: "$0.42", "$12", "$1,250", "less than a cent". */
export function usd(amount: number): string {
  if (amount < 0.01) return 'less than a cent';
  if (amount < 10) return `$${amount.toFixed(2)}`;
  return `$${Math.round(amount).toLocaleString('en-US')}`;
}

/** Minutes as a clinic reads them: "under a minute", "45 min", "18 h 53 min", "15 days 18 h". */
export function duration(minutes: number): string {
  if (minutes < 1) return 'under a minute';
  if (minutes < 60) return `${Math.round(minutes)} min`;
  const whole = Math.round(minutes);
  if (whole < 24 * 60) return `${Math.floor(whole / 60)} h ${whole % 60} min`;
  const hours = Math.round(minutes / 60);
  const days = Math.floor(hours / 24);
  return `${days} day${days === 1 ? '' : 's'} ${hours % 24} h`;
}

/**
 * One line for the terminal, after the live estimate's: "On AWS: 1 Step Functions execution,
 * ≈ $1.52 a run at 1 key ($1.51 at 4, $1.51 at 8) in ap-southeast-2 (us-east-1 list prices of
 * 2026-12-04)."
 */
export function projectionLine(p: RunProjection): string {
  const others = p.atKeys
    .filter((k) => k.keys !== p.keys)
    .map((k) => `${usd(k.cost)} at ${k.keys}`)
    .join(', ');
  const prices = p.regionalPrices ? `prices of ${p.pricesRead}` : `us-east-1 list prices of ${p.pricesRead}`;
  return `On AWS: ${p.executions} Step Functions execution${p.executions === 1 ? '' : 's'}, ${p.cost.total < 0.01 ? '' : '≈ '}${usd(p.cost.total)} a run at ${p.keys} key${p.keys === 1 ? '' : 's'}${others ? ` (${others})` : ''} in ${p.region} (${prices}).`;
}
