import type { ClinikoAccount } from '../cliniko/account.js';
import type { MigrationConfig } from '../config/migration-config.js';
import type { Manifest } from '../source/manifest.js';
import type { LocationRef, PractitionerRef } from '../translate/builders.js';

/**
 * The runs port: a run's record (what Preflight learned), its status, the dry runs an approval
 * refers to and the Cliniko requests the run made. The pipeline's ports are split by concern
 * (runs, outcomes, id map, write ledger, blobs, command queue, secrets); the Lambdas wire AWS
 * adapters into them and nothing under src/ports imports an SDK.
 */
export type RunMode = 'dry-run' | 'live';

/** What Preflight learns once, for every later step of the run. */
export interface RunInfo {
  readonly runId: string;
  readonly clinicId: string;
  /** The Cliniko account the run's keys belong to (Preflight asks Cliniko). */
  readonly account: ClinikoAccount;
  /**
   * What the clinic's state in that account is keyed by (`<clinic>@<shard>-<account id>`): the id
   * map, claims and dry runs. A different account starts from an empty map.
   */
  readonly scope: string;
  readonly mode: RunMode;
  readonly bucket: string;
  readonly exportKey: string;
  readonly exportFile: string;
  readonly sha256: string;
  readonly startedAt: string;
  readonly startedBy: string;
  readonly config: MigrationConfig;
  readonly manifest?: Manifest;
  readonly practitioners: Record<string, PractitionerRef>;
  readonly locations: Record<string, LocationRef>;
  readonly defaultBusinessId?: string;
  readonly defaultTimeZone: string;
  /** The default Cliniko business's name, shown on notes PDFs. */
  readonly clinicName?: string;
  /** The approval marker that started a live run on AWS. */
  readonly approvalKey?: string;
  /** The keys as they may be shown (their last four characters), for the audit trail. */
  readonly keyLabels?: readonly string[];
  /** Cliniko user ids of the configured keys, in key order: each user has its own rate limit. */
  readonly clinikoUsers: readonly string[];
  /**
   * The Cliniko practitioner each key writes treatment notes as (null: its user is no
   * practitioner), in key order; found in native-notes runs only (CLINIKO_API.md §2.7).
   */
  readonly keyPractitioners?: readonly (string | null)[];
  readonly target: string;
  /** Set by later steps. */
  readonly status?: string;
  readonly excluded?: Record<string, number>;
}

/** A run's record and status, kept for the audit retention. */
export interface RunStore {
  /** Records the run Preflight passed (status `preflight-passed`). */
  putRun(run: RunInfo): Promise<void>;
  /** The run with its latest status and excluded counts. Throws when the run is not recorded. */
  getRun(runId: string): Promise<RunInfo>;
  /** Sets the run's status and any further attributes (`extra`, e.g. `excluded`). */
  updateRunStatus(runId: string, status: string, extra?: Record<string, unknown>): Promise<void>;
}

/** The dry runs an approval refers to (CONTRACT.md: a live run needs an approved dry run). */
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
