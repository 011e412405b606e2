import { z } from 'zod';
import { ClinikoAccount } from '../cliniko/account.js';
import { MigrationConfig } from '../config/migration-config.js';
import { Manifest } from '../source/manifest.js';
import { LocationRef, PractitionerRef } from '../translate/row-context.js';

/**
 * The runs port: a run's record (what Preflight learned), its status, the dry runs an approval
 * refers to and the Cliniko requests the run made. The pipeline's ports are split by concern
 * (runs, outcomes, id map, write ledger, blobs, command queue, secrets); the Lambdas wire AWS
 * adapters into them and nothing under src/ports imports an SDK. Each record a port reads back
 * has a zod schema here, its type inferred from it, so what an adapter parses and what the
 * pipeline uses cannot drift.
 */
export const RunMode = z.enum(['dry-run', 'live']);
export type RunMode = z.output<typeof RunMode>;

/** What Preflight learns once, for every later step of the run (parsed when read back). */
export const RunInfo = z
  .object({
    runId: z.string(),
    clinicId: z.string(),
    /** The Cliniko account the run's keys belong to (Preflight asks Cliniko). */
    account: ClinikoAccount,
    /**
     * What the clinic's state in that account is keyed by (`<clinic>@<shard>-<account id>`): the id
     * map, claims and dry runs. A different account starts from an empty map.
     */
    scope: z.string(),
    mode: RunMode,
    bucket: z.string(),
    exportKey: z.string(),
    exportFile: z.string(),
    sha256: z.string(),
    /** ISO 8601 UTC. */
    startedAt: z.string(),
    startedBy: z.string(),
    config: MigrationConfig,
    manifest: Manifest.optional(),
    practitioners: z.record(z.string(), PractitionerRef),
    locations: z.record(z.string(), LocationRef),
    defaultBusinessId: z.string().optional(),
    defaultTimeZone: z.string(),
    /** The default Cliniko business's name, shown on notes PDFs. */
    clinicName: z.string().optional(),
    /** The approval marker that started a live run on AWS. */
    approvalKey: z.string().optional(),
    /**
     * The clinic's hold StartRun took for the run (src/ports/clinic-gate.ts), as Preflight found
     * it: a renewal that finds it gone or expired takes it again. Absent for a run started by the
     * CLI or the local runtime, which holds none.
     */
    clinicHold: z.object({ exportKey: z.string().min(1), takenAt: z.string().min(1) }).optional(),
    /** The keys as they may be shown (their last four characters), for the audit trail. */
    keyLabels: z.array(z.string()).readonly().optional(),
    /** Cliniko user ids of the configured keys, in key order: each user has its own rate limit. */
    clinikoUsers: z.array(z.string()).readonly(),
    /**
     * The Cliniko practitioner each key writes treatment notes as (null: its user is no
     * practitioner), in key order; found in native-notes runs only (Cliniko's API documentation on
     * users).
     */
    keyPractitioners: z.array(z.string().nullable()).readonly().optional(),
    target: z.string(),
    /** Set by later steps. */
    status: z.string().optional(),
    excluded: z.record(z.string(), z.number()).optional(),
  })
  .readonly();
export type RunInfo = z.output<typeof RunInfo>;

/** A run's record and status, kept for the audit retention. */
export interface RunStore {
  /** Records the run Preflight passed (status `preflight-passed`). */
  putRun(run: RunInfo): Promise<void>;
  /** The run with its latest status and excluded counts. Throws when the run is not recorded. */
  getRun(runId: string): Promise<RunInfo>;
  /** Sets the run's status and any further attributes (`extra`, e.g. `excluded`). */
  updateRunStatus(runId: string, status: string, extra?: Record<string, unknown>): Promise<void>;
}

/** The dry runs an approval refers to (docs/RUNNING.md: a live run needs an approved dry run). */
export interface DryRunRegistry {
  /** Remembers that a dry run of an export (by its sha256) finished: what an approval refers to. */
  recordDryRun(clinicId: string, sha256: string, runId: string): Promise<void>;
  /** The latest finished dry run of the export with this sha256, if any. */
  dryRunFor(clinicId: string, sha256: string): Promise<string | undefined>;
}

/** Cliniko requests a run made, by HTTP status (the report's `requests`). */
export interface RequestCounter {
  /** Adds Cliniko requests by status, from one step's client. */
  addRequests(runId: string, byStatus: Record<string, number>): Promise<void>;
  /** The run's requests so far, by HTTP status (`"200"`, `"429"`, ...). */
  requests(runId: string): Promise<Record<string, number>>;
}
