import { z } from 'zod';
import { RunMode } from '../../src/ports/runs.js';
import { RECONCILE_ORDER } from '../../src/reconcile/resources.js';

const id = z.string().min(1);

/** Preflight's input: the run StartRun (or the local runner) started (lib/constructs/pipeline-definition.ts). */
export const PreflightInput = z
  .object({
    runId: id,
    clinicId: id,
    bucket: id,
    /** The export's object key. */
    key: id,
    mode: RunMode,
    startedBy: z.string().optional(),
    /** A live run started by sign-off: the approval marker beside the export (empty for a dry run). */
    approvalKey: z.string().optional(),
  })
  .readonly();
export type PreflightInput = z.output<typeof PreflightInput>;

/** What Preflight decided: the state machine reconciles and plans when `ok`, else reports. */
export const PreflightOutput = z
  .object({
    runId: id,
    ok: z.boolean(),
    mode: RunMode,
    /** What to fix when not ok: plain sentences for the operator. */
    failures: z.array(z.string()).readonly(),
    /** Records of this export the account may hold already (0 to 1). */
    duplicationRisk: z.number(),
    /** The resources Reconcile reads from the account before anything is written, in order. */
    reconcile: z.array(z.literal(RECONCILE_ORDER)).readonly().optional(),
    /** The same resources as a manifest in the bucket (keys.manifest): Reconcile's Map reads it. */
    reconcileManifest: z.string().min(1).optional(),
  })
  .readonly();
export type PreflightOutput = z.output<typeof PreflightOutput>;
