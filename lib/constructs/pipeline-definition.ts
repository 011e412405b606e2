import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  type CatchProps,
  Choice,
  Condition,
  CustomState,
  DistributedMap,
  Fail,
  type IChainable,
  type INextable,
  JsonPath,
  Pass,
  Result,
  type RetryProps,
  S3JsonItemReader,
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
 * The state machine, in JSONPath, so the very same definition runs on AWS (Distributed Map,
 * Standard workflow) and locally (aws-local-stepfunctions, which ignores JSONata, variables and
 * ItemBatcher/ResultWriter without a word: a guard test keeps them out). Each Distributed Map reads
 * its items from a manifest in S3 (ItemReader), never from the state: the local runner reads the
 * same manifest (apps/local/execution.ts).
 *
 *   Preflight → Reconcile (each resource in turn) → Plan → for each phase with batches:
 *   Map(batches → mapper) → wait until written → … → Report
 *
 * A run of any length (issue 22; docs/ARCHITECTURE.md, "A run of any length"): the wait between
 * two checks of a phase follows the work left (CheckPhase's waitSeconds, 10 s to 1 h), and after
 * POLLS_PER_EXECUTION checks the run carries on in a fresh execution of this state machine
 * (`<runId>--<phase>-<part>`), which a Choice at the start routes straight back into the phase's
 * wait loop: an execution's history stays bounded however many days a phase lasts.
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

/**
 * Checks of a phase one execution makes before the run carries on in a fresh one. A check costs
 * 9 history events (Wait 2, Task 5, Choice 2): 100 checks are about 900 of an execution's 25,000,
 * and with waits of 10 s to 1 h an execution waits between 17 minutes and 4 days.
 */
export const POLLS_PER_EXECUTION = 100;

/** The run's own fields, from StartRun's input: every execution of the run carries them. */
const RUN_FIELDS = ['runId', 'clinicId', 'bucket', 'key', 'mode', 'startedBy', 'approvalKey'] as const;

export interface PipelineOptions {
  /** Seconds before the first check of a phase's writes (later waits follow the work left). */
  readonly pollSeconds?: number;
  /** Batches mapped at once per phase. */
  readonly mapConcurrency?: number;
}

export function pipelineDefinition(
  scope: Construct,
  fns: PipelineFunctions,
  options: PipelineOptions = {},
): IChainable {
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
  const manifestReader = (keyPath: string) =>
    new S3JsonItemReader({ bucketNamePath: JsonPath.stringAt('$.bucket'), key: JsonPath.stringAt(keyPath) });
  const reconcileAll = new DistributedMap(scope, 'Reconcile', {
    itemReader: manifestReader('$.preflight.reconcileManifest'),
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

  const waits: Record<string, Wait> = {};
  const continued = new Succeed(scope, 'ContinuedInNextExecution', {
    comment: 'The run carries on in the execution this one started.',
  });
  let tail: INextable & { next(s: unknown): unknown } = plan as never;
  for (const phase of PHASES) {
    const label = phase.charAt(0).toUpperCase() + phase.slice(1);
    const map = new DistributedMap(scope, `Map${label}`, {
      itemReader: manifestReader(`$.plan.${phase}.manifest`),
      itemSelector: { 'runId.$': '$.runId', 'batchKey.$': '$$.Map.Item.Value' },
      maxConcurrency: options.mapConcurrency ?? 10,
      resultPath: JsonPath.DISCARD,
    });
    map.itemProcessor(
      invoke(`MapBatch${label}`, fns.mapBatch, { 'runId.$': '$.runId', 'batchKey.$': '$.batchKey' }, '$'),
    );
    const init = new Pass(scope, `Start${label}Check`, {
      result: {
        value: {
          phase,
          part: 1,
          done: false,
          idleChecks: 0,
          polls: 0,
          waitSeconds: options.pollSeconds ?? 10,
        },
      },
      resultPath: '$.check',
    });
    const wait = new Wait(scope, `Wait${label}`, { time: WaitTime.secondsPath('$.check.waitSeconds') });
    waits[phase] = wait;
    const check = invoke(
      `Check${label}`,
      fns.checkPhase,
      // the previous check whole: its fields the first check lacks would fail a path of their own
      { 'runId.$': '$.runId', phase, 'previous.$': '$.check' },
      '$.check',
    );
    catchInto(map, `Map${label}`);
    catchInto(check, `Check${label}`);
    const done = new Choice(scope, `${label}Written`);
    // The run carries on in a fresh execution, with what the rest of the run reads from the state.
    const carryOn = new CustomState(scope, `Continue${label}`, {
      stateJson: {
        Type: 'Task',
        Resource: 'arn:aws:states:::states:startExecution',
        Parameters: {
          'StateMachineArn.$': '$$.StateMachine.Id',
          'Name.$': `States.Format('{}--${phase}-{}', $.runId, States.MathAdd($.check.part, 1))`,
          Input: {
            ...Object.fromEntries(RUN_FIELDS.map((f) => [`${f}.$`, `$.${f}`])),
            'plan.$': '$.plan',
            continuation: { phase },
            check: {
              phase,
              'part.$': 'States.MathAdd($.check.part, 1)',
              done: false,
              polls: 0,
              'idleChecks.$': '$.check.idleChecks',
              'waitSeconds.$': '$.check.waitSeconds',
              'finished.$': '$.check.finished',
              'checkedAt.$': '$.check.checkedAt',
            },
            'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
          },
        },
        ResultPath: null,
      },
    });
    carryOn.addRetry({
      ...TRANSIENT_RETRY,
      errors: [
        'StepFunctions.SdkClientException',
        'StepFunctions.AWSStepFunctionsException',
        'StepFunctions.ThrottlingException',
      ],
    });
    catchInto(carryOn, `Continue${label}`);
    carryOn.next(continued);
    // A phase with no batches (documents, when they share the appointments phase) is passed by,
    // not waited through: its first check comes after a whole poll interval.
    const hasBatches = new Choice(scope, `${label}HasBatches`);
    tail.next(hasBatches);
    hasBatches.when(Condition.numberGreaterThan(`$.plan.${phase}.batches`, 0), map);
    map.next(init);
    init.next(wait);
    wait.next(check);
    check.next(done);
    const after = new Pass(scope, `${label}Done`);
    done.when(Condition.booleanEquals('$.check.done', true), after);
    done.when(Condition.numberGreaterThanEquals('$.check.polls', POLLS_PER_EXECUTION), carryOn);
    done.otherwise(wait);
    hasBatches.otherwise(after);
    tail = after as never;
  }
  tail.next(report);
  report.next(new Succeed(scope, 'Done'));

  preflight.next(
    new Choice(scope, 'PreflightPassed')
      .when(Condition.booleanEquals('$.preflight.ok', true), reconcileAll)
      .otherwise(reportFailure),
  );
  // A continuation goes straight back into its phase's wait loop.
  const resume = new Choice(scope, 'ResumePhase');
  for (const phase of PHASES) {
    const wait = waits[phase];
    if (wait) resume.when(Condition.stringEquals('$.continuation.phase', phase), wait);
  }
  resume.otherwise(
    new Fail(scope, 'UnknownContinuation', {
      error: 'UnknownContinuation',
      cause: 'The execution continues a phase this state machine does not have.',
    }),
  );
  return new Choice(scope, 'ContinuesRun')
    .when(Condition.isPresent('$.continuation'), resume)
    .otherwise(preflight);
}
