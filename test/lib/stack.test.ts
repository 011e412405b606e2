import { describe, expect, it } from '@jest/globals';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { LOCAL_STACK, stateMachineDefinition, synthTemplate } from '../../apps/local/template.js';
import {
  DEFAULT_MAX_CONCURRENT_RUNS,
  MAPPERS_PER_RUN,
  MigrationStack,
  mapperReservedConcurrency,
  writerConcurrency,
} from '../../lib/migration-stack.js';

function synth() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new MigrationStack(app, 'Test', { clinics: ['clinic-a'], exportRetentionDays: 14 });
  return { app, stack, template: Template.fromStack(stack) };
}

const { stack, template } = synth();

describe('the stack', () => {
  it('keeps the audit trail for its retention and replicates nothing to another region', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    for (const bucket of Object.values(template.findResources('AWS::S3::Bucket')))
      expect(bucket.Properties?.ReplicationConfiguration).toBeUndefined();
    for (const table of Object.values(template.findResources('AWS::DynamoDB::Table')))
      expect(table.Properties?.Replicas).toBeUndefined();
    expect(Object.keys(template.findResources('AWS::DynamoDB::GlobalTable'))).toHaveLength(0);
  });

  it('keeps exports private, TLS-only, versioned, KMS-encrypted, expiring, and announced to EventBridge', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) }),
        ],
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          // after the live run, the export goes after the grace period
          Match.objectLike({
            Prefix: 'exports/',
            ExpirationInDays: 7,
            TagFilters: [{ Key: 'cliniko-migrate-signed-off', Value: 'true' }],
          }),
          Match.objectLike({ Prefix: 'exports/', ExpirationInDays: 14 }),
          Match.objectLike({ Prefix: 'work/', ExpirationInDays: 7 }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('tracks runs in an on-demand, encrypted table with point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }),
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
  });

  it('gives the writer queue a dead-letter queue and a visibility of six times the writer timeout', () => {
    const writer = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Metadata: { 'cliniko-migrate:handler': 'lambdas/write/handler.ts' },
      }),
    )[0] as { Properties: { Timeout: number } };
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: writer.Properties.Timeout * 6,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }),
      KmsMasterKeyId: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
    });
  });

  it('runs every function on Node.js 24 on ARM with JSON logs and tracing', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as {
      Properties: Record<string, unknown>;
      Metadata?: Record<string, unknown>;
    }[];
    const ours = functions.filter((f) => f.Metadata?.['cliniko-migrate:handler']);
    expect(ours.length).toBe(8);
    for (const f of ours) {
      expect(f.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON' },
      });
    }
  });

  it('starts the state machine for objects created under exports/', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { object: { key: [{ prefix: 'exports/' }] } },
      },
    });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
  });

  it('has a secret per clinic, and alarms that notify', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'cliniko-migrate/Test/clinic-a',
      KmsKeyId: Match.anyValue(),
    });
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as {
      Properties: { AlarmActions?: unknown[] };
    }[];
    expect(alarms.length).toBe(3);
    for (const a of alarms) expect(a.Properties.AlarmActions?.length).toBe(1);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('matches its snapshot (asset hashes scrubbed)', () => {
    const text = JSON.stringify(template.toJSON(), null, 1).replace(
      /[0-9a-f]{64}(\.zip)?/g,
      '[HASH REMOVED]',
    );
    expect(JSON.parse(text)).toMatchSnapshot();
  });
});

describe('cdk-nag', () => {
  it('finds nothing unacknowledged with the AwsSolutions and HIPAA Security packs', () => {
    const findings = [new AwsSolutionsChecks(), new HIPAASecurityChecks()].flatMap((pack) =>
      pack.validateScope(stack).violations.map((v) => `${v.ruleName}: ${v.description.slice(0, 80)}`),
    );
    expect(findings).toEqual([]);
  });
});

describe('the state machine definition', () => {
  const local = synthTemplate();
  const definition = stateMachineDefinition(local, {
    region: 'us-east-1',
    account: '000000000000',
    refs: {},
  });
  const text = JSON.stringify(definition);

  it('uses nothing the local engine silently ignores', () => {
    // aws-local-stepfunctions ignores these without an error and would return wrong results.
    for (const forbidden of [
      'JSONata',
      '"Arguments"',
      '"Output"',
      '"Assign"',
      'ItemBatcher',
      'ResultWriter',
      'ToleratedFailure',
    ]) {
      expect({ forbidden, found: text.includes(forbidden) }).toEqual({ forbidden, found: false });
    }
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
  });

  it('has every Distributed Map read its items from a manifest in S3, none from the state', () => {
    const maps: [string, Record<string, unknown>][] = [];
    const walk = (states: Record<string, Record<string, unknown>>) => {
      for (const [name, state] of Object.entries(states)) {
        if (state.Type === 'Map') maps.push([name, state]);
        const inner = state.ItemProcessor as { States?: Record<string, Record<string, unknown>> } | undefined;
        if (inner?.States) walk(inner.States);
      }
    };
    walk(definition.States as Record<string, Record<string, unknown>>);
    expect(maps.map(([name]) => name).sort()).toEqual(
      ['MapAppointments', 'MapDocuments', 'MapPatients', 'MapSetup', 'Reconcile'].sort(),
    );
    for (const [name, map] of maps) {
      expect({ name, ItemsPath: map.ItemsPath }).toEqual({ name, ItemsPath: undefined });
      expect({ name, map }).toMatchObject({
        name,
        map: {
          ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' } },
          ItemReader: {
            Resource: 'arn:aws:states:::s3:getObject',
            ReaderConfig: { InputType: 'JSON' },
            Parameters: { 'Bucket.$': '$.bucket', 'Key.$': expect.stringMatching(/^\$\.(plan|preflight)\./) },
          },
        },
      });
    }
  });

  it('lets the state machine read the manifests and start its own next execution, and nothing else of Step Functions', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } } })
          .Properties.PolicyDocument.Statement,
    );
    const pipeline = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'))[0];
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: 'states:StartExecution', Resource: { Ref: pipeline } }),
    );
  });

  it('runs the phases one after the other from the manifests Plan wrote', () => {
    const states = definition.States as Record<string, Record<string, unknown>>;
    for (const phase of ['Setup', 'Patients', 'Appointments', 'Documents']) {
      expect(states[`Map${phase}`]).toMatchObject({
        Type: 'Map',
        ItemReader: { Parameters: { 'Key.$': `$.plan.${phase.toLowerCase()}.manifest` } },
      });
    }
    expect(states.Preflight?.Next).toBe('PreflightPassed');
    expect(states.Plan?.Next).toBe('SetupHasBatches');
    // a phase without batches is passed by, not waited through
    for (const [phase, next] of [
      ['Setup', 'Patients'],
      ['Patients', 'Appointments'],
      ['Appointments', 'Documents'],
    ] as const) {
      expect(states[`${phase}HasBatches`]).toEqual({
        Type: 'Choice',
        Choices: [
          { Variable: `$.plan.${phase.toLowerCase()}.batches`, NumericGreaterThan: 0, Next: `Map${phase}` },
        ],
        Default: `${phase}Done`,
      });
      expect(states[`${phase}Done`]?.Next).toBe(`${next}HasBatches`);
    }
    expect(states.DocumentsDone?.Next).toBe('Report');
    expect(LOCAL_STACK).toBe('ClinikoMigrateLocal');
  });

  it("routes every task state's failure to Report, which writes the report before the execution fails", () => {
    type State = {
      Type: string;
      Resource?: string;
      Parameters?: Record<string, unknown>;
      Next?: string;
      Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
      ItemProcessor?: { States: Record<string, State> };
    };
    const states = definition.States as Record<string, State>;
    const reportFn = states.Report?.Resource;
    expect(reportFn).toMatch(/^arn:aws:lambda:.*:function:Report/);
    const callsReport = (s: State | undefined) => s?.Resource === reportFn;
    /** Follows Pass states from a Catch's target to the first state that does something. */
    const landing = (name: string): [string, State | undefined] => {
      let at = name;
      for (let s = states[at]; s?.Type === 'Pass' && s.Next; s = states[at]) at = s.Next;
      return [at, states[at]];
    };
    const failureReports = new Set<string>();
    const covered: string[] = [];
    const check = (name: string, state: State, insideCaughtMap: boolean) => {
      const caught = (state.Catch ?? []).find((c) => c.ErrorEquals.includes('States.ALL'));
      if (state.Type === 'Task' || state.Type === 'Map') {
        if (caught) {
          const [target, s] = landing(caught.Next);
          expect({ state: `${name} → ${target}`, callsReport: callsReport(s) }).toEqual({
            state: `${name} → ${target}`,
            callsReport: true,
          });
          expect(s?.Parameters?.['executionFailure.$']).toBe(caught.ResultPath);
          failureReports.add(target);
          const end = s?.Next ? states[s.Next] : undefined;
          expect({ after: target, type: end?.Type }).toEqual({ after: target, type: 'Fail' });
          covered.push(name);
        } else if (state.Type === 'Task' && !insideCaughtMap) covered.push(`UNCAUGHT ${name}`);
      }
      for (const [inner, s] of Object.entries(state.ItemProcessor?.States ?? {}))
        check(inner, s, insideCaughtMap || caught !== undefined);
    };
    for (const [name, state] of Object.entries(states)) {
      // the reports of a failure are where failures go; a failure there has nowhere further to go
      if (callsReport(state) && name !== 'Report') continue;
      check(name, state, false);
    }
    expect(covered.filter((c) => c.startsWith('UNCAUGHT'))).toEqual([]);
    expect(covered).toEqual(
      expect.arrayContaining(['Preflight', 'Plan', 'MapPatients', 'CheckDocuments', 'Report']),
    );
    expect([...failureReports]).toEqual(['ReportExecutionFailure']);
  });

  it('declares the transient retry once and uses it on every Lambda task, and a retry on every continuation', () => {
    const tasks = Object.values(
      definition.States as Record<
        string,
        { Type: string; Resource: string; Retry?: { ErrorEquals: string[] }[] }
      >,
    ).filter((s) => s.Type === 'Task');
    const lambdas = tasks.filter((t) => t.Resource.includes(':function:'));
    expect(lambdas.length).toBeGreaterThan(5);
    for (const t of lambdas) expect(t.Retry?.[0]?.ErrorEquals).toContain('Lambda.TooManyRequestsException');
    const continuations = tasks.filter((t) => t.Resource === 'arn:aws:states:::states:startExecution');
    expect(continuations).toHaveLength(4);
    for (const t of continuations)
      expect(t.Retry?.[0]?.ErrorEquals).toContain('StepFunctions.ThrottlingException');
  });

  it("lets every task, inside a Map too, run as long as its function may (the local engine's default is 60 s)", () => {
    type State = {
      Type: string;
      Resource?: string;
      TimeoutSeconds?: number;
      ItemProcessor?: { States: Record<string, State> };
    };
    const tasks = (states: Record<string, State>): State[] =>
      Object.values(states).flatMap((s) => [
        ...(s.Type === 'Task' && s.Resource?.includes(':function:') ? [s] : []),
        ...(s.ItemProcessor ? tasks(s.ItemProcessor.States) : []),
      ]);
    const all = tasks(definition.States as Record<string, State>);
    expect(all.length).toBeGreaterThan(10);
    for (const t of all) expect(t.TimeoutSeconds).toBe(900);
  });
});

describe("the writers' concurrency", () => {
  it("follows the deployed clinics' API keys (one writer per key lane, at least two)", () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new MigrationStack(app, 'Keys', { clinics: ['a', 'b'], clinicKeys: [4, 2] });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 6 },
    });
    expect(writerConcurrency(['solo'])).toBe(2);
    expect(writerConcurrency(['a', 'b', 'c'], [8, 8, 8])).toBe(24);
  });
});

describe('concurrency and fairness across runs', () => {
  type Fn = { Properties: Record<string, unknown>; Metadata?: Record<string, unknown> };
  const fnOf = (t: Template, folder: string) =>
    Object.entries(t.findResources('AWS::Lambda::Function')).find(
      ([, f]) => (f as Fn).Metadata?.['cliniko-migrate:handler'] === `lambdas/${folder}/handler.ts`,
    ) as [string, Fn];

  it('lets the writer outlive its slowest upload (15 min), the queue hold messages 6× that, and 256 KiB a message', () => {
    const [, writer] = fnOf(template, 'write');
    expect(writer.Properties.Timeout).toBe(900);
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 5400,
      MaximumMessageSize: 262_144,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }),
    });
  });

  it('bounds the runs at once: an export waits in the run-start queue, one StartRun at a time looks for a free slot', () => {
    const [startRunId, startRun] = fnOf(template, 'start-run');
    expect(startRun.Properties).toMatchObject({
      ReservedConcurrentExecutions: 1,
      Environment: { Variables: expect.objectContaining({ MAX_CONCURRENT_RUNS: '10' }) },
    });
    const queues = template.findResources('AWS::SQS::Queue');
    const [runStartsId] =
      Object.entries(queues).find(([id]) => id.startsWith('RunStarts')) ?? ([] as unknown as [string]);
    expect(runStartsId).toBeDefined();
    // about ten days of looks, fifteen minutes apart, before an export is dead-lettered
    expect(queues[runStartsId]?.Properties).toMatchObject({
      VisibilityTimeout: 900,
      RedrivePolicy: expect.objectContaining({ maxReceiveCount: 1000 }),
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: startRunId },
      EventSourceArn: { 'Fn::GetAtt': [runStartsId, 'Arn'] },
      BatchSize: 1,
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [runStartsId, 'Arn'] } })],
    });
  });

  it('reserves the mappers a lane per batch each allowed run maps at once, and maps no more than that per run', () => {
    const [, mapBatch] = fnOf(template, 'map-batch');
    expect(mapBatch.Properties.ReservedConcurrentExecutions).toBe(
      MAPPERS_PER_RUN * DEFAULT_MAX_CONCURRENT_RUNS,
    );
    const definition = stateMachineDefinition(synthTemplate(), {
      region: 'us-east-1',
      account: '1',
      refs: {},
    });
    const maps = Object.values(
      definition.States as Record<string, { Type: string; MaxConcurrency?: number }>,
    ).filter((s) => s.Type === 'Map');
    expect(maps.length).toBeGreaterThan(0);
    for (const m of maps) expect(m.MaxConcurrency).toBeLessThanOrEqual(MAPPERS_PER_RUN);

    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const four = Template.fromStack(new MigrationStack(app, 'Four', { maxConcurrentRuns: 4 }));
    expect(fnOf(four, 'map-batch')[1].Properties.ReservedConcurrentExecutions).toBe(
      mapperReservedConcurrency(4),
    );
    expect(fnOf(four, 'start-run')[1].Properties).toMatchObject({
      Environment: { Variables: expect.objectContaining({ MAX_CONCURRENT_RUNS: '4' }) },
    });
  });
});
