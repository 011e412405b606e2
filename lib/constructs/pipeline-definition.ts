import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  type CatchProps,
  type Chain,
  Choice,
  Condition,
  DistributedMap,
  Fail,
  type IChainable,
  type INextable,
  JsonPath,
  Pass,
  Result,
  type RetryProps,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { PHASES } from '../../src/batch/row-processing.js';

/**
 * The state machine, in JSONPath and with batch keys passed to each Map through ItemsPath, so the
 * very same definition runs on AWS (Distributed Map, Standard workflow) and locally
 * (aws-local-stepfunctions, which ignores JSONata, variables and ItemReader/ItemBatcher/ResultWriter
 * without a word: a guard test keeps them out).
 *
 *   Preflight → Reconcile (each resource in turn) → Plan → for each phase with batches:
 *   Map(batches → mapper) → wait until written → … → Report
 */
export interface PipelineFunctions {
  readonly preflight: IFunction;
  readonly reconcile: IFunction;
  readonly plan: IFunction;
  readonly mapBatch: IFunction;
  readonly checkPhase: IFunction;
  readonly report: IFunction;
}

/** Transient failures of a step are retried; everything else is data or a real failure. Declared once. */
export const TRANSIENT_RETRY: RetryProps = {
  errors: [
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
    'ProvisionedThroughputExceededException',
    'ThrottlingException',
    'RequestLimitExceeded',
    'ClinikoTransientError',
    'ClinikoRateLimitedError',
  ],
  interval: Duration.seconds(2),
  maxAttempts: 6,
  backoffRate: 2,
};

export interface PipelineOptions {
  /** Seconds between checks of a phase's writes. */
  readonly pollSeconds?: number;
  /** Batches mapped at once per phase. */
  readonly mapConcurrency?: number;
}

export function pipelineDefinition(
  scope: Construct,
  fns: PipelineFunctions,
  options: PipelineOptions = {},
): Chain {
  const invoke = (id: string, fn: IFunction, payload: Record<string, unknown>, resultPath: string) =>
    new LambdaInvoke(scope, id, {
      lambdaFunction: fn,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      payload: TaskInput.fromObject(payload),
      resultPath,
      // On AWS the function's own timeout (at most 15 minutes) ends a task first. Without this the
      // local emulator stops any task after 60 s (its default, not AWS's): a mapper rendering a
      // large notes partition on a busy machine failed the whole run with States.Timeout.
      taskTimeout: Timeout.duration(Duration.minutes(15)),
    }).addRetry(TRANSIENT_RETRY);

  const report = invoke(
    'Report',
    fns.report,
    { 'runId.$': '$.runId', 'clinicId.$': '$.clinicId', 'bucket.$': '$.bucket' },
    '$.report',
  );
  const reportFailure = invoke(
    'ReportPreflightFailure',
    fns.report,
    {
      'runId.$': '$.runId',
      'clinicId.$': '$.clinicId',
      'bucket.$': '$.bucket',
      'exportKey.$': '$.key',
      'mode.$': '$.mode',
      'failures.$': '$.preflight.failures',
    },
    '$.report',
  ).next(
    new Fail(scope, 'PreflightFailed', {
      error: 'PreflightFailed',
      cause: 'The export or the clinic setup failed the preflight checks: see the report.',
    }),
  );

  // Any state that fails still ends in a report (issue 13, point 6): its Catch records where the
  // run stopped and why, Report writes the three files from what the status table holds, and the
  // execution then fails so AWS shows it failed too.
  const reportExecutionFailure = invoke(
    'ReportExecutionFailure',
    fns.report,
    {
      'runId.$': '$.runId',
      'clinicId.$': '$.clinicId',
      'bucket.$': '$.bucket',
      'exportKey.$': '$.key',
      'mode.$': '$.mode',
      'executionFailure.$': '$.failure',
      'failedState.$': '$.failedState',
    },
    '$.report',
  ).next(
    new Fail(scope, 'ExecutionFailed', {
      error: 'ExecutionFailed',
      cause: 'A step of the run failed: the report says where and why.',
    }),
  );
  const catchInto = (state: { addCatch(handler: IChainable, props?: CatchProps): unknown }, name: string) =>
    state.addCatch(
      new Pass(scope, `${name}Stopped`, {
        result: Result.fromString(name),
        resultPath: '$.failedState',
      }).next(reportExecutionFailure),
      { resultPath: '$.failure' },
    );

  const preflight = invoke(
    'Preflight',
    fns.preflight,
    {
      'runId.$': '$.runId',
      'clinicId.$': '$.clinicId',
      'bucket.$': '$.bucket',
      'key.$': '$.key',
      'mode.$': '$.mode',
      'startedBy.$': '$.startedBy',
      'approvalKey.$': '$.approvalKey',
    },
    '$.preflight',
  );
  const plan = invoke('Plan', fns.plan, { 'runId.$': '$.runId' }, '$.plan');
  // The account is the truth: what it holds of each resource is read before anything is written,
  // one resource at a time (appointments and attachments are read for the migrated patients).
  const reconcileAll = new DistributedMap(scope, 'Reconcile', {
    itemsPath: '$.preflight.reconcile',
    itemSelector: { 'runId.$': '$.runId', 'resource.$': '$$.Map.Item.Value' },
    maxConcurrency: 1,
    resultPath: JsonPath.DISCARD,
  });
  // A resource of a large account takes several invocations, each ending well before its timeout
  // with a checkpoint in the bucket: the resource is invoked again until it answers done. (The
  // answer goes beside the item, not over it: the local emulator nests a ResultPath of "$".)
  const reconcileResource = invoke(
    'ReconcileResource',
    fns.reconcile,
    { 'runId.$': '$.runId', 'resource.$': '$.resource' },
    '$.reconciled',
  );
  reconcileAll.itemProcessor(
    reconcileResource.next(
      new Choice(scope, 'ResourceReconciled')
        .when(Condition.booleanEquals('$.reconciled.done', false), reconcileResource)
        .otherwise(new Succeed(scope, 'ResourceDone')),
    ),
  );
  reconcileAll.next(plan);
  catchInto(preflight, 'Preflight');
  catchInto(plan, 'Plan');
  catchInto(reconcileAll, 'Reconcile');
  catchInto(report, 'Report');

  let tail: INextable & { next(s: unknown): unknown } = plan as never;
  for (const phase of PHASES) {
    const label = phase.charAt(0).toUpperCase() + phase.slice(1);
    const map = new DistributedMap(scope, `Map${label}`, {
      itemsPath: `$.plan.${phase}`,
      itemSelector: { 'runId.$': '$.runId', 'batchKey.$': '$$.Map.Item.Value' },
      maxConcurrency: options.mapConcurrency ?? 10,
      resultPath: JsonPath.DISCARD,
    });
    map.itemProcessor(
      invoke(`MapBatch${label}`, fns.mapBatch, { 'runId.$': '$.runId', 'batchKey.$': '$.batchKey' }, '$'),
    );
    const init = new Pass(scope, `Start${label}Check`, {
      result: { value: { phase, done: false, idleChecks: 0 } },
      resultPath: '$.check',
    });
    const wait = new Wait(scope, `Wait${label}`, {
      time: WaitTime.duration(Duration.seconds(options.pollSeconds ?? 10)),
    });
    const check = invoke(
      `Check${label}`,
      fns.checkPhase,
      { 'runId.$': '$.runId', phase, 'idleChecks.$': '$.check.idleChecks' },
      '$.check',
    );
    catchInto(map, `Map${label}`);
    catchInto(check, `Check${label}`);
    const done = new Choice(scope, `${label}Written`);
    // A phase with no batches (documents, when they share the appointments phase) is passed by,
    // not waited through: its first check comes after a whole poll interval.
    const hasBatches = new Choice(scope, `${label}HasBatches`);
    tail.next(hasBatches);
    hasBatches.when(Condition.isPresent(`$.plan.${phase}[0]`), map);
    map.next(init);
    init.next(wait);
    wait.next(check);
    check.next(done);
    done.otherwise(wait);
    const after = new Pass(scope, `${label}Done`);
    done.when(Condition.booleanEquals('$.check.done', true), after);
    hasBatches.otherwise(after);
    tail = after as never;
  }
  tail.next(report);
  report.next(new Succeed(scope, 'Done'));

  return preflight.next(
    new Choice(scope, 'PreflightPassed')
      .when(Condition.booleanEquals('$.preflight.ok', true), reconcileAll)
      .otherwise(reportFailure),
  );
}
