import { App } from 'aws-cdk-lib';
import { HANDLER_METADATA } from '../../lib/constructs/migration-function.js';
import { MigrationStack } from '../../lib/migration-stack.js';
import type { FunctionLimits } from './function-limits.js';

/**
 * The deployed stack's template, synthesized in process (assets not bundled: the local runner
 * runs the handlers' sources), and what the local runner needs from it: the state machine's
 * definition with intrinsics resolved to local names, the functions and their environment,
 * the table, the queues and their redrive, the SQS event sources.
 */
type Json = unknown;
type Resource = { Type: string; Properties?: Record<string, Json>; Metadata?: Record<string, Json> };
export type Template = { Resources: Record<string, Resource> };

export const LOCAL_STACK = 'ClinikoMigrateLocal';

let cached: Template | undefined;

export function synthTemplate(): Template {
  if (cached) return cached;
  // CloudFormation's own checks of the template (a WebAssembly validator: about ten CPU seconds,
  // measured, in every local run) belong to `cdk synth` and the deploy, which keep them; `npm test`
  // synthesises with them on. Locally the template is only read, never deployed.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new MigrationStack(app, LOCAL_STACK, {});
  const assembly = app.synth();
  cached = assembly.getStackByName(stack.stackName).template as Template;
  return cached;
}

export interface LocalNames {
  readonly region: string;
  readonly account: string;
  /** Physical names or URLs of resources, by logical id. */
  readonly refs: Record<string, string>;
}

export function functionArn(logicalId: string, names: LocalNames): string {
  return `arn:aws:lambda:${names.region}:${names.account}:function:${logicalId}`;
}

/** Resolves the intrinsics CDK emits (Ref, Fn::GetAtt, Fn::Join, pseudo parameters). */
export function resolve(value: Json, names: LocalNames): Json {
  if (Array.isArray(value)) return value.map((v) => resolve(v, names));
  if (!value || typeof value !== 'object') return value;
  const obj = value as Record<string, Json>;
  if ('Ref' in obj) {
    const ref = String(obj.Ref);
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::Region': names.region,
      'AWS::AccountId': names.account,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': LOCAL_STACK,
      'AWS::NoValue': '',
    };
    return pseudo[ref] ?? names.refs[ref] ?? ref;
  }
  if ('Fn::GetAtt' in obj) {
    const [id, attr] = obj['Fn::GetAtt'] as [string, string];
    if (attr === 'Arn') return names.refs[`${id}.Arn`] ?? functionArn(id, names);
    return names.refs[`${id}.${attr}`] ?? `${id}.${attr}`;
  }
  if ('Fn::Join' in obj) {
    const [sep, parts] = obj['Fn::Join'] as [string, Json[]];
    return parts.map((p) => String(resolve(p, names))).join(sep);
  }
  if ('Fn::Select' in obj) {
    const [i, list] = obj['Fn::Select'] as [number, Json];
    return (resolve(list, names) as Json[])[Number(i)];
  }
  if ('Fn::Split' in obj) {
    const [sep, s] = obj['Fn::Split'] as [string, Json];
    return String(resolve(s, names)).split(sep);
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, resolve(v, names)]));
}

export function resourcesOf(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

export interface LocalFunction {
  readonly logicalId: string;
  readonly handlerPath: string;
  readonly environment: Record<string, string>;
  /** Its Timeout and MemorySize as deployed: the local runtime holds its invocations to them. */
  readonly limits: FunctionLimits;
}

export function functionsOf(template: Template, names: LocalNames): LocalFunction[] {
  return resourcesOf(template, 'AWS::Lambda::Function')
    .filter(([, r]) => typeof r.Metadata?.[HANDLER_METADATA] === 'string')
    .map(([logicalId, r]) => ({
      logicalId,
      handlerPath: String(r.Metadata?.[HANDLER_METADATA]),
      environment: resolve(
        ((r.Properties?.Environment as Record<string, Json> | undefined)?.Variables as Json) ?? {},
        names,
      ) as Record<string, string>,
      // Lambda's defaults when the template leaves them out: 3 s and 128 MB
      limits: {
        timeoutSeconds: Number(r.Properties?.Timeout ?? 3),
        memoryMb: Number(r.Properties?.MemorySize ?? 128),
      },
    }));
}

/** The state machine's definition as plain ASL, with local ARNs. */
export function stateMachineDefinition(template: Template, names: LocalNames): Record<string, Json> {
  const [, sm] = resourcesOf(template, 'AWS::StepFunctions::StateMachine')[0] ?? [];
  if (!sm) throw new Error('the stack has no state machine');
  const text = resolve(sm.Properties?.DefinitionString, names);
  return JSON.parse(String(text)) as Record<string, Json>;
}

/** Every Task state, in the main flow and inside Map and Parallel states, with its resource. */
export function taskStates(definition: Record<string, Json>): { name: string; resource: string }[] {
  const out: { name: string; resource: string }[] = [];
  const walk = (states: Record<string, Record<string, Json>>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') out.push({ name, resource: String(state.Resource) });
      const processor = (state.ItemProcessor ?? state.Iterator) as
        | { States?: Record<string, Record<string, Json>> }
        | undefined;
      if (processor?.States) walk(processor.States);
      for (const branch of (state.Branches as
        | { States: Record<string, Record<string, Json>> }[]
        | undefined) ?? [])
        walk(branch.States);
    }
  };
  walk(definition.States as Record<string, Record<string, Json>>);
  return out;
}
