import './polyfills.js';
import { setMaxListeners } from 'node:events';
import { StateMachine } from 'aws-local-stepfunctions';
import { AWS_LIMIT_ERRORS, AWS_LIMITS, LimitsMeter, payloadBytes } from '../../src/core/aws-limits.js';

/**
 * Runs a state machine definition the way Step Functions would, on aws-local-stepfunctions, with
 * what that engine leaves out:
 * - Distributed Maps read their items through their ItemReader (S3 GetObject, JSON) by
 *   `readItems`, and each item runs as a child execution of its own (its own history); the
 *   items never enter the parent's state. The engine ignores ItemReader, so each such Map state is
 *   handed to it as a Task state this module runs (same Catch, Retry, paths and Next).
 * - `states:startExecution` of the state machine itself (a run carrying on in a fresh
 *   execution): the next execution starts once the current one has succeeded, as a new
 *   execution with its own history.
 * - AWS's hard limits: history events per execution (25,000, counted as Step Functions counts
 *   them) fail the execution with States.Runtime; a state's or task's input or output over 256 KiB
 *   fails it with States.DataLimitExceeded; neither can be caught (States.ALL does not match them).
 * - A clock: Wait states take `waitMs` of real time while `clock` advances by their seconds.
 */
export interface ExecutionOptions {
  /** The definition as plain ASL (template.ts), with local ARNs. */
  readonly definition: Record<string, unknown>;
  readonly input: Record<string, unknown>;
  readonly stateMachineArn: string;
  /** The first execution's name (the run id). */
  readonly name: string;
  /** Lambda task states' handlers, by state name (inside Maps too). */
  readonly tasks: Record<string, (input: unknown) => Promise<unknown>>;
  /** An ItemReader's items: the JSON array at the bucket's key. */
  readonly readItems: (bucket: string, key: string) => Promise<unknown[]>;
  /** Real milliseconds a Wait state takes (its seconds still advance `clock`). */
  readonly waitMs: number;
  /** Real milliseconds before a retry. */
  readonly retryMs: number;
  readonly clock?: VirtualClock;
  readonly meter?: LimitsMeter;
  readonly signal?: AbortSignal;
  /** Called when an execution starts (the first, then each continuation), with its name. */
  readonly onExecution?: (name: string) => void;
  /** Limits used instead of AWS's (tests cross them with small runs). */
  readonly limits?: { readonly historyEvents?: number; readonly payloadBytes?: number };
}

/** Seconds of simulated time: Wait states advance it instead of taking real time. */
export class VirtualClock {
  constructor(private ms = Date.now()) {}
  now(): number {
    return this.ms;
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

/** What one execution of a run did, as Step Functions would show it. */
export interface ExecutionFigures {
  readonly name: string;
  /** History events of the execution (not of its Distributed Map children). */
  readonly historyEvents: number;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
}

export interface ExecutionsResult {
  readonly output: unknown;
  readonly executions: readonly ExecutionFigures[];
  /** The largest child execution's history (Distributed Map children). */
  readonly largestChildHistory: number;
  /** The failure that ended the run, AWS's error name and cause; undefined when it succeeded. */
  readonly failure?: { readonly error: string; readonly cause: string };
}

/** An error Step Functions raises that no Catch or Retry (States.ALL included) can handle. */
export class TerminalStatesError extends Error {
  readonly isCatchable = false;
  readonly isRetryable = false;
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** A failed execution's error as aws-local-stepfunctions rejects it (ExecutionError wraps the cause). */
function errorOf(err: unknown): { error: string; cause: string } {
  const inner = (err as { cause?: unknown })?.cause;
  const e = inner instanceof Error ? inner : err instanceof Error ? err : new Error(String(err));
  return { error: e.name, cause: e.message };
}

type Json = Record<string, unknown>;
const DISTRIBUTED_MAP = 'arn:aws:states:::local:distributedMap';
const START_EXECUTION = 'arn:aws:states:::states:startExecution';

/** Runs the execution and the ones it continues in, one after the other; never rejects for a failed execution. */
export async function runExecutions(options: ExecutionOptions): Promise<ExecutionsResult> {
  const meter = options.meter ?? new LimitsMeter();
  const historyLimit = options.limits?.historyEvents ?? AWS_LIMITS.stepFunctions.historyEventsPerExecution;
  const payloadLimit = options.limits?.payloadBytes ?? AWS_LIMITS.stepFunctions.payloadBytes;
  const { definition: local, maps } = localDefinition(options.definition);
  // Every execution in flight (the parent and each Map's child executions, up to its
  // MaxConcurrency) listens for the stop, and each removes its listener when it ends: more than
  // Node's default of 10 at once is the design, not a leak.
  if (options.signal) setMaxListeners(0, options.signal);
  const executions: ExecutionFigures[] = [];
  let largestChildHistory = 0;
  const validated = new WeakSet<object>();

  const checkPayload = (value: unknown, what: string) => {
    const bytes = payloadBytes(value);
    meter.record('largest state payload', bytes, AWS_LIMITS.stepFunctions.payloadBytes, 'bytes', what);
    if (bytes > payloadLimit)
      throw new TerminalStatesError(
        AWS_LIMIT_ERRORS.dataLimitExceeded,
        `${what} is ${bytes} bytes, over the ${payloadLimit}-byte limit`,
      );
  };

  /** One execution (the run's or a Map child's) on the engine, counting its history. */
  const execute = async (
    definition: Json,
    input: unknown,
    context: Json,
    mapTypes: ReadonlySet<string>,
    onContinue?: (name: string, input: unknown) => void,
  ) => {
    const history = { events: 0, failure: undefined as TerminalStatesError | undefined };
    // Validated once (the run's definition holds the children's): a child's is not validated again.
    const machine = new StateMachine(JSON.parse(JSON.stringify(definition)), {
      validationOptions: {
        checkPaths: false,
        checkArn: false,
        noValidate: validated.has(definition),
      } as never,
    });
    validated.add(definition);
    const fail = (err: TerminalStatesError) => {
      history.failure ??= err;
      run.abort();
    };
    const guard = async (state: string, taskInput: unknown) => {
      // Let the history catch up with the engine (its events arrive asynchronously) before a step runs.
      await new Promise((resolve) => setImmediate(resolve));
      if (history.failure) throw history.failure;
      checkPayload(taskInput, `the input of ${state}`);
    };
    const overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
    const register = (states: Record<string, Json>) => {
      for (const [name, state] of Object.entries(states)) {
        if (state.Type !== 'Task') continue;
        if (state.Resource === DISTRIBUTED_MAP) {
          const map = maps.get(name);
          if (!map) throw new Error(`no Distributed Map named ${name}`);
          overrides[name] = async (mapInput) => {
            await guard(name, mapInput);
            return runMap(name, map, mapInput);
          };
        } else if (state.Resource === START_EXECUTION) {
          overrides[name] = async (params) => {
            await guard(name, params);
            const p = params as { Name?: string; Input?: unknown; StateMachineArn?: string };
            const next = String(p.Name ?? '');
            if (
              !/^[A-Za-z0-9_-]{1,80}$/.test(next) ||
              next.length > AWS_LIMITS.stepFunctions.executionNameChars
            )
              throw Object.assign(new Error(`invalid execution name ${next}`), {
                name: 'StepFunctions.InvalidNameException',
              });
            if (p.StateMachineArn !== options.stateMachineArn)
              throw Object.assign(new Error(`not this state machine: ${p.StateMachineArn}`), {
                name: 'StepFunctions.StateMachineDoesNotExistException',
              });
            checkPayload(p.Input, `the input of execution ${next}`);
            onContinue?.(next, p.Input);
            return {
              ExecutionArn: `${options.stateMachineArn.replace(':stateMachine:', ':execution:')}:${next}`,
            };
          };
        } else {
          const handler = options.tasks[name];
          if (!handler) throw new Error(`no local handler for task state ${name}`);
          overrides[name] = async (taskInput) => {
            await guard(name, taskInput);
            const output = await handler(taskInput);
            checkPayload(output, `the output of ${name}`);
            return output as never;
          };
        }
      }
    };
    register(definition.States as Record<string, Json>);
    const states = definition.States as Record<string, Json>;
    const waits = new Proxy({} as Record<string, number>, {
      get: (_t, name) =>
        typeof name === 'string' && states[name]?.Type === 'Wait' ? options.waitMs : undefined,
    });
    const run = machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: overrides as never,
        waitTimeOverrides: waits,
        retryIntervalOverrides: new Proxy({} as Record<string, number>, { get: () => options.retryMs }),
      },
      context: context as never,
    });
    const stopOnSignal = () => run.abort();
    options.signal?.addEventListener('abort', stopOnSignal, { once: true });
    const add = (n: number) => {
      history.events += n;
      if (history.events > historyLimit && !history.failure)
        fail(
          new TerminalStatesError(
            AWS_LIMIT_ERRORS.runtime,
            `the execution reached the maximum number of history events (${historyLimit})`,
          ),
        );
    };
    // Step Functions' history (GetExecutionHistory): a Task state is TaskStateEntered,
    // TaskScheduled, TaskStarted, TaskSucceeded (or TaskFailed, and again Scheduled, Started for
    // each retry), TaskStateExited; a Distributed Map is MapStateEntered, MapRunStarted,
    // MapRunSucceeded (or Failed), MapStateExited; Pass, Wait, Choice, Succeed: Entered, Exited;
    // Fail: Entered; the execution: Started, then Succeeded or Failed.
    const counting = (async () => {
      for await (const event of run.eventLogs) {
        const e = event as {
          type: string;
          state?: { name: string; type: string; input?: unknown; output?: unknown };
        };
        const task = e.state?.type === 'Task';
        const map = e.state ? mapTypes.has(e.state.name) : false;
        switch (e.type) {
          case 'ExecutionStarted':
          case 'ExecutionSucceeded':
          case 'ExecutionFailed':
          case 'ExecutionAborted':
            add(1);
            break;
          case 'StateEntered':
            add(map ? 2 : task ? 3 : 1);
            if (e.state?.type === 'Wait') advanceClock(states[e.state.name] ?? {}, e.state.input);
            try {
              checkPayload(e.state?.input, `the input of ${e.state?.name}`);
            } catch (err) {
              fail(err as TerminalStatesError);
            }
            break;
          case 'StateExited':
            add(task || map ? 2 : 1);
            try {
              checkPayload(e.state?.output, `the output of ${e.state?.name}`);
            } catch (err) {
              fail(err as TerminalStatesError);
            }
            break;
          case 'StateFailed':
            if (task || map) add(1);
            break;
          case 'StateRetried':
            if (task) add(2);
            break;
        }
      }
    })();
    let output: unknown;
    let failure: unknown;
    try {
      output = await run.result;
    } catch (err) {
      failure = err;
    } finally {
      options.signal?.removeEventListener('abort', stopOnSignal);
      await counting;
    }
    return { output, events: history.events, failure: history.failure ?? failure };
  };

  const advanceClock = (state: Json, input: unknown) => {
    if (!options.clock) return;
    let seconds = typeof state.Seconds === 'number' ? state.Seconds : 0;
    if (typeof state.SecondsPath === 'string') seconds = Number(pathValue(state.SecondsPath, input, {}));
    options.clock.advance(Number.isFinite(seconds) ? seconds : 0);
  };

  /** A Distributed Map: items through its ItemReader, each in a child execution of its own. */
  const runMap = async (name: string, map: Json, mapInput: unknown): Promise<unknown> => {
    const reader = map.ItemReader as { Parameters?: Json; ReaderConfig?: { InputType?: string } } | undefined;
    if (!reader?.Parameters || reader.ReaderConfig?.InputType !== 'JSON')
      throw new Error(`${name}: only ItemReader over a JSON file in S3 is run locally`);
    const params = template(reader.Parameters, mapInput, {}) as { Bucket?: string; Key?: string };
    const items = await options.readItems(String(params.Bucket), String(params.Key));
    meter.record(`${name} items`, items.length, Number.POSITIVE_INFINITY, 'items');
    const processor = map.ItemProcessor as Json;
    const child = { StartAt: processor.StartAt, States: processor.States };
    const selector = map.ItemSelector as Json | undefined;
    const limit = Math.max(1, Number(map.MaxConcurrency ?? 0) || 1000);
    let next = 0;
    let failed: { error: string; cause: string } | undefined;
    const worker = async () => {
      while (next < items.length && !failed && !options.signal?.aborted) {
        const index = next++;
        const item = items[index];
        const context = { Map: { Item: { Value: item, Index: index } } };
        const childInput = selector ? template(selector, mapInput, context) : item;
        const result = await execute(child, childInput, {}, new Set());
        largestChildHistory = Math.max(largestChildHistory, result.events);
        meter.record('history events per child execution', result.events, historyLimit, 'events', name);
        if (result.failure) failed ??= errorOf(result.failure);
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    if (failed)
      throw Object.assign(new Error(`a child execution failed: ${failed.error}: ${failed.cause}`), {
        name: 'States.ExceedToleratedFailureThreshold',
      });
    return [];
  };

  let name = options.name;
  let input: unknown = options.input;
  for (;;) {
    options.onExecution?.(name);
    let continuation: { name: string; input: unknown } | undefined;
    try {
      checkPayload(input, `the input of execution ${name}`);
    } catch (err) {
      // StartExecution itself refuses it: no execution, no history.
      executions.push({ name, historyEvents: 0, status: 'FAILED' });
      return { output: undefined, executions, largestChildHistory, failure: errorOf(err) };
    }
    const context = {
      StateMachine: { Id: options.stateMachineArn, Name: options.stateMachineArn.split(':').at(-1) },
      Execution: {
        Id: `${options.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
        Name: name,
      },
    };
    const result = await execute(local, input, context, new Set(maps.keys()), (n, i) => {
      continuation = { name: n, input: i };
    });
    meter.record('history events per execution', result.events, historyLimit, 'events', name);
    const aborted = options.signal?.aborted && !(result.failure instanceof TerminalStatesError);
    executions.push({
      name,
      historyEvents: result.events,
      status: aborted ? 'ABORTED' : result.failure ? 'FAILED' : 'SUCCEEDED',
    });
    if (result.failure)
      return { output: undefined, executions, largestChildHistory, failure: errorOf(result.failure) };
    if (!continuation) return { output: result.output, executions, largestChildHistory };
    ({ name, input } = continuation);
  }
}

/** The definition the engine runs: each Map with an ItemReader becomes a Task this module runs. */
/** Node's longest timer (2^31 - 1 ms), in whole seconds. */
const MAP_NO_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function localDefinition(definition: Record<string, unknown>): { definition: Json; maps: Map<string, Json> } {
  const maps = new Map<string, Json>();
  const states: Record<string, Json> = {};
  for (const [name, state] of Object.entries(definition.States as Record<string, Json>)) {
    if (state.Type === 'Map' && state.ItemReader) {
      maps.set(name, state);
      const kept = [
        'InputPath',
        'ResultPath',
        'ResultSelector',
        'OutputPath',
        'Retry',
        'Catch',
        'Next',
        'End',
      ];
      states[name] = {
        Type: 'Task',
        Resource: DISTRIBUTED_MAP,
        // A Map state has no timeout on AWS unless it sets one; a Task without TimeoutSeconds gets
        // the emulator's 60 s, which failed a 10,000-patient run's MapAppointments (309 batches)
        // with States.Timeout. The longest a timer can wait in Node (about 24.8 days) stands in
        // for none: a run continues in a fresh execution long before.
        TimeoutSeconds:
          typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : MAP_NO_TIMEOUT_SECONDS,
        ...Object.fromEntries(kept.filter((k) => k in state).map((k) => [k, state[k]])),
      };
    } else states[name] = state;
  }
  return { definition: { ...definition, States: states }, maps };
}

/** A simple reference path (`$.a.b`, `$$.Map.Item.Value`): what ItemReader and ItemSelector use here. */
function pathValue(path: string, input: unknown, context: unknown): unknown {
  const [root, rest] = path.startsWith('$$') ? [context, path.slice(2)] : [input, path.slice(1)];
  if (rest && !/^(\.[A-Za-z0-9_]+)+$/.test(rest)) throw new Error(`path ${path} is not run locally`);
  let at: unknown = root;
  for (const part of rest.split('.').filter(Boolean)) {
    if (!at || typeof at !== 'object' || !(part in at))
      throw Object.assign(new Error(`path ${path} not found in the input`), { name: 'States.Runtime' });
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** A Parameters-style template: fields ending in `.$` take a path's value. */
function template(value: Json, input: unknown, context: unknown): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.endsWith('.$')) out[k.slice(0, -2)] = pathValue(String(v), input, context);
    else out[k] = v && typeof v === 'object' && !Array.isArray(v) ? template(v as Json, input, context) : v;
  }
  return out;
}
