import type { Readable } from 'node:stream';
import type { ClinikoAccount } from '../cliniko/account.js';
import type { MigrationConfig } from '../config/migration-config.js';
import type { EntityCounts, EntityKey } from '../core/entities.js';
import type { Problem } from '../core/problem.js';
import type { ByteSource } from '../source/archive.js';
import type { Manifest } from '../source/manifest.js';
import type { LocationRef, PractitionerRef } from '../translate/builders.js';

/**
 * The pipeline's ports: what its pure cores need from storage, queues and secrets. The Lambdas
 * wire AWS adapters (S3, DynamoDB, SQS, Secrets Manager) into them; nothing here imports an SDK.
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

/** One batch of a table's rows, as Plan writes it and a mapper reads it. */
export interface RowBatch {
  readonly table: string;
  readonly file: string;
  /** A partition: its rows are in these part files (in file order), not in `rows`. */
  readonly parts?: readonly string[];
  readonly rows: readonly {
    readonly row: number;
    readonly values: Record<string, string>;
    readonly extra: readonly { header: string; value: string }[];
    readonly fieldCountMismatch?: number;
  }[];
}

/** Counts a step reports for its batch: written whole, so a retried step never counts twice. */
/** The "Migrated appointment" type is written but is no source row: it is counted apart. */
export type CountedEntity = EntityKey | SupportEntity;

/**
 * Written, but no source row of their own, so counted apart from the report's entities: the
 * "Migrated appointment" type, the treatment note templates native notes are based on (one per
 * assessment type), and the notes PDF kept as the archive beside native notes (`native+pdf`).
 */
export type SupportEntity = 'migratedAppointmentType' | 'treatmentNoteTemplates' | 'notesArchive';
export const SUPPORT_ENTITIES: readonly SupportEntity[] = [
  'migratedAppointmentType',
  'treatmentNoteTemplates',
  'notesArchive',
];
export const isSupportEntity = (entity: string): entity is SupportEntity =>
  (SUPPORT_ENTITIES as readonly string[]).includes(entity);

export interface BatchCounts {
  readonly entity: CountedEntity;
  readonly source: number;
  readonly planned: number;
  readonly skipped: number;
  readonly invalid: number;
  /** Write commands sent to the writers (live runs). */
  readonly enqueued: number;
  /** Records that could not be enqueued because a parent was not written. */
  readonly failed: number;
}

/** The outcome of a row as its mapper saw it. */
export interface RecordOutcome {
  readonly entity: EntityKey;
  readonly sourceId: string;
  readonly outcome: 'planned' | 'skipped' | 'invalid' | 'failed';
  readonly file: string;
  readonly row: number;
  readonly reason?: string;
  readonly hash?: string;
  /** Contacts: the Cliniko contact type code (1 = doctor), which decides a patient's referring doctor. */
  readonly typeCode?: number;
  /** Patients: who the notes PDF is about (its cover and every page's header). */
  readonly label?: { readonly name: string; readonly dateOfBirth?: string };
}

/** A record's Cliniko id, kept per clinic across runs: the key to never writing it twice. */
export interface IdMapEntry {
  readonly clinikoId: string;
  readonly hash: string;
  readonly runId: string;
  readonly at: string;
  /** Follow-up requests already done (alerts, referral, cancel, arrival). */
  readonly steps: readonly string[];
  /** The latest run that updated the record in Cliniko because its content had changed. */
  readonly updatedIn?: string;
}

export type WriteOutcome = 'created' | 'alreadyPresent' | 'updated' | 'failed';

export interface WriteResult {
  readonly entity: CountedEntity;
  readonly sourceId: string;
  readonly outcome: WriteOutcome;
  readonly clinikoId?: string;
  readonly reason?: string;
  readonly code?: string;
  /** A refused record's source file, row and the column behind the field Cliniko named. */
  readonly file?: string;
  readonly row?: number;
  readonly field?: string;
}

export interface StatusStore {
  putRun(run: RunInfo): Promise<void>;
  getRun(runId: string): Promise<RunInfo>;
  updateRunStatus(runId: string, status: string, extra?: Record<string, unknown>): Promise<void>;
  putBatchCounts(
    runId: string,
    batchKey: string,
    counts: BatchCounts,
    evidence?: Record<string, { parsed: number; proven: boolean }>,
  ): Promise<void>;
  listBatchCounts(runId: string): Promise<
    {
      batchKey: string;
      counts: BatchCounts;
      evidence?: Record<string, { parsed: number; proven: boolean }>;
    }[]
  >;
  putOutcomes(runId: string, outcomes: readonly RecordOutcome[]): Promise<void>;
  getOutcomes(
    runId: string,
    entity: EntityKey,
    sourceIds: readonly string[],
  ): Promise<Map<string, RecordOutcome>>;
  listOutcomes(runId: string, entity?: EntityKey): AsyncIterable<RecordOutcome>;
  /** `scope`: the clinic in one Cliniko account (RunInfo.scope), never the bare clinic id. */
  getIdMap(
    scope: string,
    entity: CountedEntity,
    sourceIds: readonly string[],
  ): Promise<Map<string, IdMapEntry>>;
  putIdMap(clinicId: string, entity: CountedEntity, sourceId: string, entry: IdMapEntry): Promise<void>;
  /** Remembers that a dry run of an export (by its sha256) finished: what an approval refers to. */
  recordDryRun(clinicId: string, sha256: string, runId: string): Promise<void>;
  /** The latest finished dry run of the export with this sha256, if any. */
  dryRunFor(clinicId: string, sha256: string): Promise<string | undefined>;
  /** Every record of an entity the clinic's runs have written (for records missing from an export). */
  listIdMap(clinicId: string, entity: CountedEntity): AsyncIterable<{ sourceId: string; entry: IdMapEntry }>;
  addIdMapStep(clinicId: string, entity: CountedEntity, sourceId: string, step: string): Promise<void>;
  /** Forgets a record's id (it is no longer in the account: reconciliation, rollback). */
  deleteIdMap(scope: string, entity: CountedEntity, sourceId: string): Promise<void>;
  /**
   * Records that a run's reconciliation found in the account, not in the id map, by natural key
   * (hashed, see reconcile/resources.ts): a writer adopts one instead of creating it again.
   */
  putFound(
    scope: string,
    resource: string,
    runId: string,
    found: readonly { readonly key: string; readonly clinikoId: string }[],
  ): Promise<void>;
  /** What this run's reconciliation found under a natural key (only this run's findings count). */
  getFound(scope: string, resource: string, runId: string, key: string): Promise<string | undefined>;
  /**
   * Claims the right to create a record, so two writers holding copies of one command never both
   * create it. `busy`: another writer's claim is live; `taken-over`: an earlier claim expired (its
   * writer may have created the record before dying, so re-find first); `done`: already written.
   */
  claim(
    clinicId: string,
    entity: CountedEntity,
    sourceId: string,
    owner: string,
    ttlMs: number,
    now: number,
  ): Promise<'claimed' | 'taken-over' | 'busy' | 'done'>;
  /** Gives a claim up after a failed attempt, so the retry (or another copy) can take it at once. */
  releaseClaim(clinicId: string, entity: CountedEntity, sourceId: string, owner: string): Promise<void>;
  /** Records a write's result exactly once, however often it is reported. */
  recordWrite(runId: string, result: WriteResult): Promise<void>;
  /** Notes the latest error of a record that will be retried (shown if it ends in the dead-letter queue). */
  noteAttempt(runId: string, entity: CountedEntity, sourceId: string, reason: string): Promise<void>;
  writeTotals(
    runId: string,
  ): Promise<
    Partial<Record<CountedEntity, Pick<EntityCounts, 'created' | 'alreadyPresent' | 'updated' | 'failed'>>>
  >;
  /** Adds Cliniko requests by status, from one step's client. */
  addRequests(runId: string, byStatus: Record<string, number>): Promise<void>;
  requests(runId: string): Promise<Record<string, number>>;
  /** Every write result, and the last error of records still being retried (no outcome yet). */
  listWrites(
    runId: string,
  ): AsyncIterable<
    Omit<WriteResult, 'outcome'> & { outcome?: WriteOutcome; lastError?: string; at?: string }
  >;
}

export interface BlobStore {
  getJson<T>(bucket: string, key: string): Promise<T | undefined>;
  putJson(bucket: string, key: string, value: unknown): Promise<void>;
  putText(bucket: string, key: string, text: string, contentType: string): Promise<void>;
  /** A file the run makes (a notes PDF), stored for a writer to upload. */
  putBytes(bucket: string, key: string, bytes: Uint8Array, contentType: string): Promise<void>;
  byteSource(bucket: string, key: string): Promise<ByteSource>;
  /** Tags an object (an export whose live run finished, for the bucket's lifecycle). */
  tag(bucket: string, key: string, tags: Record<string, string>): Promise<void>;
  /** Streams an object (sha256, documents). */
  read(bucket: string, key: string): Promise<Readable>;
}

export interface CommandQueue {
  send(commands: readonly WriteCommand[]): Promise<void>;
  /** Messages still to be handled, visible or in flight (approximate, as SQS reports them). */
  outstanding(): Promise<number>;
}

export interface ClinikoCredentials {
  readonly apiKeys: readonly string[];
  readonly userAgent?: string;
  readonly baseUrl?: string;
}

export interface SecretSource {
  credentials(clinicId: string): Promise<ClinikoCredentials>;
}

/** What a writer is asked to do: everything it needs, Cliniko ids of references included. */
export type WriteCommand = {
  readonly runId: string;
  readonly clinicId: string;
  /** The run's state scope (clinic and Cliniko account): where the record's id is kept. */
  readonly scope: string;
  readonly entity: CountedEntity;
  readonly sourceId: string;
  readonly file: string;
  readonly row: number;
  readonly hash: string;
  /** Which of the run's keys (Cliniko users) writes it: spreads load over their rate limits. */
  readonly keyIndex: number;
  /**
   * The key must be `keyIndex` (a treatment note is authored by its key's practitioner). Absent:
   * any key will do, and a writer takes the least loaded one (its lane).
   */
  readonly pinnedKey?: boolean;
  readonly payload: WritePayload;
  /** An earlier attempt may have created the record: re-find it before creating. */
  readonly refind?: boolean;
  /** Since when the written attachment has been waited on to finish processing in Cliniko. */
  readonly waitingSince?: string;
};

export type WritePayload =
  | { readonly kind: 'appointmentType'; readonly body: Record<string, unknown> & { name: string } }
  | { readonly kind: 'contact'; readonly body: Record<string, unknown> }
  | {
      readonly kind: 'patient';
      readonly body: Record<string, unknown> & {
        old_reference_id: string;
        first_name: string;
        last_name: string;
      };
      readonly alerts: readonly string[];
      readonly referral?: { readonly contactId: string };
      /**
       * `existingPatients: "link"`: the Cliniko patient this one is adopted as (its
       * `old_reference_id` set when it has none), instead of creating it.
       */
      readonly link?: { readonly clinikoId: string; readonly setReference: boolean };
    }
  | {
      readonly kind: 'appointment';
      readonly body: Record<string, unknown> & {
        patient_id: string;
        practitioner_id: string;
        starts_at: string;
      };
      readonly cancel?: { cancellation_reason: number; cancellation_note?: string };
      readonly arrived?: boolean;
    }
  | {
      /** A treatment note template, re-found by name before it is created (once per account). */
      readonly kind: 'treatmentNoteTemplate';
      readonly body: { name: string; content: { sections: readonly unknown[] } };
    }
  | {
      /** A native treatment note, finalised, written with its author's key (`pinnedKey`). */
      readonly kind: 'treatmentNote';
      readonly body: {
        patient_id: string;
        title: string;
        draft: false;
        booking_id?: string;
        treatment_note_template_id?: string;
        content: { sections: readonly unknown[] };
      };
    }
  | {
      /**
       * A letter or upload (streamed from the export) or a notes PDF the mapper made (streamed
       * from the run's files), into Cliniko's attachment flow.
       */
      readonly kind: 'attachment';
      readonly patientId: string;
      /** The entry's path inside the export, or the name of the file the run made. */
      readonly path: string;
      /** Set when the file is the run's own (in the bucket under this key), not an export entry. */
      readonly runFile?: string;
      /**
       * The source rows the file carries when it bundles several (a patient's notes): each is
       * counted and recorded with the attachment's id. Absent: the command's own source row.
       */
      readonly members?: readonly string[];
      readonly size: number;
      readonly filename: string;
      readonly contentType: string;
      /** At most 255 characters; also the key the record is re-found by. */
      readonly description: string;
    };

/** A batch key as a file name. */
/** The batch that asks for the "Migrated appointment" type, when some appointment needs it. */
export const MIGRATED_TYPE_BATCH = 'migrated-appointment-type';
/** The batch that writes the treatment note templates native notes are based on. */
export const TEMPLATES_BATCH = 'treatment-note-templates';

export const batchName = (batchKey: string) => batchKey.replace(/[^\w.-]+/g, '_');

/** Seven years: the longest record-retention rule found for the clinics we serve (anchors.md §5.2). */
export const DEFAULT_AUDIT_RETENTION_DAYS = 2557;

/** Where a run keeps its working files and reports in the bucket. */
export const keys = {
  config: (clinicId: string) => `config/${clinicId}/migration.json`,
  batch: (runId: string, table: string, n: number) =>
    `work/${runId}/batches/${table}/${String(n).padStart(5, '0')}.json`,
  problems: (runId: string, name: string) => `work/${runId}/problems/${name}.json`,
  /** What a batch saw for the approval aids (samples and counts). */
  aids: (runId: string, name: string) => `work/${runId}/aids/${name}.json`,
  entries: (runId: string) => `work/${runId}/entries.json`,
  /** A partition of a table whose rows must be grouped (a patient's notes): its part files. */
  partition: (runId: string, table: string, p: number) =>
    `work/${runId}/batches/${table}/p${String(p).padStart(4, '0')}.json`,
  partitionPart: (runId: string, table: string, p: number, n: number) =>
    `work/${runId}/batches/${table}/p${String(p).padStart(4, '0')}/${String(n).padStart(5, '0')}.json`,
  runFile: (runId: string, name: string) => `work/${runId}/files/${name}`,
  /** The treatment note templates Plan found in the notes table (native notes). */
  templates: (runId: string) => `work/${runId}/templates.json`,
  report: (clinicId: string, runId: string, file: string) => `reports/${clinicId}/${runId}/${file}`,
};

export type { Problem };
