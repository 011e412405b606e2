import { checkPhase } from '../../lambdas/check-phase/check-phase.js';
import { ReconcileInput, ReconcileOutput } from '../../lambdas/reconcile/io.js';
import { PHASES, type Phase } from '../../src/batch/row-processing.js';
import { LimitsMeter } from '../../src/core/aws-limits.js';
import { keys } from '../../src/ports/bucket-keys.js';
import { type ExecutionsResult, runExecutions, VirtualClock } from './execution.js';
import { stateMachineDefinition, synthTemplate, taskStates } from './template.js';

/** A clinic's size and the rate its writes go at, for a run simulated under a virtual clock. */
export interface SimulatedClinic {
  readonly patients: number;
  readonly appointments: number;
  /** Records written a minute (one Cliniko request each): about 200 at one key. */
  readonly recordsPerMinute: number;
  /** Rows per batch (the mappers' unit, as Plan splits the tables). */
  readonly batchSize?: number;
  /** Limits used instead of AWS's (a test crossing one). */
  readonly limits?: { readonly historyEvents?: number; readonly payloadBytes?: number };
}

export interface SimulatedRun extends ExecutionsResult {
  /** Simulated seconds from start to end. */
  readonly seconds: number;
  readonly meter: LimitsMeter;
  /** Checks of a phase made, in all executions. */
  readonly checks: number;
}

/**
 * The real state machine definition (synthesized from the CDK stack, as runLocal runs it) in the
 * local engine, with simulated steps: Plan plans the clinic's batches (manifests in memory),
 * each mapper queues its batch's rows, and the real CheckPhase logic (lambdas/check-phase) reads
 * a simulated status table whose writes finish at `recordsPerMinute` of virtual time. Wait states
 * take no real time while the virtual clock advances by their seconds: days of a clinic's run
 * pass in seconds, with every execution's history counted as Step Functions counts it.
 */
export async function simulateRun(clinic: SimulatedClinic): Promise<SimulatedRun> {
  const names = { region: 'us-east-1', account: '000000000000', refs: {} };
  const definition = stateMachineDefinition(synthTemplate(), names);
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const started = clock.now();
  const meter = new LimitsMeter();
  const runId = 'run-simulated';
  const bucket = 'simulated';
  const batchSize = clinic.batchSize ?? 500;
  const manifests = new Map<string, string[]>();
  const rows: Record<Phase, number> = {
    setup: 0,
    patients: clinic.patients,
    appointments: clinic.appointments,
    documents: 0,
  };
  // What the status table would hold: rows queued per batch, and writes finished per phase.
  const enqueued = new Map<string, number>();
  const phaseStart = new Map<string, number>();
  let checks = 0;
  const finished = (phase: Phase): number => {
    const queued = [...enqueued].filter(([k]) => k.includes(`/${phase}/`)).reduce((n, [, v]) => n + v, 0);
    const since = phaseStart.get(phase);
    if (since === undefined) return 0;
    return Math.min(queued, Math.floor(((clock.now() - since) / 60_000) * clinic.recordsPerMinute));
  };

  const tasks: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const { name } of taskStates(definition)) {
    if (name === 'Preflight')
      tasks[name] = async () => {
        const reconcileManifest = keys.manifest(runId, 'reconcile');
        manifests.set(reconcileManifest, ['patients', 'appointments']);
        return { runId, ok: true, mode: 'live', failures: [], duplicationRisk: 0, reconcileManifest };
      };
    else if (name === 'ReconcileResource')
      // Parsed by the step's own schema, so the simulation breaks when the step's answer changes.
      tasks[name] = async (input) => {
        const item = ReconcileInput.parse(input);
        return ReconcileOutput.parse({
          runId: item.runId,
          resource: item.resource,
          done: true,
          invocations: 1,
          read: 0,
          requests: 0,
          notInCliniko: 0,
          found: 0,
        });
      };
    else if (name === 'Plan')
      tasks[name] = async () => {
        const out: Record<string, unknown> = { runId };
        for (const phase of PHASES) {
          const batches = Math.ceil(rows[phase] / batchSize);
          const manifest = keys.manifest(runId, phase);
          manifests.set(
            manifest,
            Array.from(
              { length: batches },
              (_, n) => `work/${runId}/batches/${phase}/${String(n).padStart(5, '0')}.json`,
            ),
          );
          out[phase] = { batches, manifest };
        }
        return out;
      };
    else if (name.startsWith('MapBatch'))
      tasks[name] = async (input) => {
        const { batchKey } = input as { batchKey: string };
        const phase = PHASES.find((p) => batchKey.includes(`/${p}/`)) ?? 'setup';
        const n = Number(batchKey.split('/').at(-1)?.slice(0, 5));
        const count = Math.min(batchSize, rows[phase] - n * batchSize);
        enqueued.set(batchKey, count);
        if (!phaseStart.has(phase)) phaseStart.set(phase, clock.now());
        return { batchKey, enqueued: count };
      };
    else if (name.startsWith('Check'))
      tasks[name] = async (input) => {
        checks++;
        const { phase } = input as { phase: Phase };
        const queued = [...enqueued].filter(([k]) => k.includes(`/${phase}/`));
        return checkPhase(input as never, {
          store: {
            listBatchCounts: async () =>
              queued.map(([k, v]) => ({
                name: k,
                counts: {
                  entity: phase,
                  source: v,
                  planned: v,
                  skipped: 0,
                  invalid: 0,
                  enqueued: v,
                  failed: 0,
                },
              })),
            writeTotals: async () => ({
              [phase]: { created: finished(phase), alreadyPresent: 0, updated: 0, failed: 0 },
            }),
          } as never,
          queue: {
            outstanding: async () => queued.reduce((n, [, v]) => n + v, 0) - finished(phase),
          } as never,
          now: () => clock.now(),
        });
      };
    else if (name.startsWith('Report')) tasks[name] = async () => ({ status: 'succeeded' });
  }
  const result = await runExecutions({
    definition,
    input: {
      runId,
      clinicId: 'simulated',
      bucket,
      key: 'exports/simulated/export.zip',
      mode: 'live',
      startedBy: 'simulation',
      approvalKey: '',
    },
    stateMachineArn: `arn:aws:states:${names.region}:${names.account}:stateMachine:Pipeline`,
    name: runId,
    tasks,
    readItems: async (_bucket, key) => manifests.get(key) ?? [],
    waitMs: 0,
    retryMs: 0,
    clock,
    meter,
    ...(clinic.limits ? { limits: clinic.limits } : {}),
  });
  return { ...result, seconds: (clock.now() - started) / 1000, meter, checks };
}
