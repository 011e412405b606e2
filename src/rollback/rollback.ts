import type { z } from 'zod';
import type { ClinikoClient } from '../cliniko/client.js';
import { ClinikoNotFoundError } from '../cliniko/errors.js';
import { idFromLink, LinkObject } from '../cliniko/schemas.js';
import type { CountedEntity } from '../core/entities.js';
import { type IdMap, medicalAlertsOf } from '../ports/id-map.js';
import type { RunInfo, RunStore } from '../ports/runs.js';
import type { WriteLedger } from '../ports/write-ledger.js';
import {
  AccountRecord,
  type ResourceName,
  ROLLBACK_ORDER,
  resource as resourceNamed,
  resourcesOf,
} from '../reconcile/resources.js';

/**
 * Rollback of a live run (docs/RUNNING.md, `rollback`; issues 11 and 23): archives in Cliniko every
 * record the run created, and nothing else (records it found, adopted, linked or updated stay),
 * children before the records they refer to (treatment notes and attachments, appointments,
 * patients, contacts, appointment types, templates; the order is reconcile/resources.ts's
 * ROLLBACK_ORDER). A record changed in Cliniko after the run wrote it (`updated_at` later than
 * the write) is left and listed unless `force`. A record left in Cliniko keeps whole what it
 * refers to: each record the run created that a left record links to (PARENT_LINKS) is `kept`
 * too, with a reason naming the child, and so are the run's records that a record the run did
 * not create refers to (an appointment a clinician booked for a migrated patient; a medical alert,
 * invoice, patient case, patient form, relationship or communication a clinic added,
 * FOREIGN_RESOURCES), even with `force`: found by listing what changed since the run started,
 * one request per 100 such records and one per resource with none. The medical alerts the run
 * created after its patients (their id map steps, medicalAlertStep) are the run's, not a clinic's:
 * they keep no patient, unless changed in Cliniko after the run wrote the patient (then, as a
 * changed record, unless `force`). Archiving is Cliniko's delete
 * (`POST …/{id}/archive`); a record already archived counts as done, so a second rollback
 * archives nothing. A record Cliniko says was created before the run started (`created_at`) is not
 * the run's, whatever its state says (a record re-found
 * after a lost answer, recorded by an older version): it is left and listed as `preexisting`,
 * even with `force`. `dryRun` only lists.
 */
export type RollbackOutcome =
  | 'archived'
  | 'wouldArchive'
  | 'alreadyArchived'
  | 'changed'
  | 'kept'
  | 'preexisting'
  | 'missing'
  | 'failed';

export interface RollbackItem {
  readonly resource: ResourceName | 'unknown';
  readonly entity: CountedEntity;
  /** The source rows the record carries (a notes PDF carries several notes). */
  readonly sourceIds: readonly string[];
  readonly clinikoId: string;
  readonly writtenAt?: string;
  readonly updatedAt?: string;
  readonly outcome: RollbackOutcome;
  readonly reason?: string;
  /**
   * Why a `kept` record is kept: a record of this run left in Cliniko references it (`runRecord`),
   * or one the run did not create does (`otherRecord`); the reason names which.
   */
  readonly keptFor?: 'runRecord' | 'otherRecord';
}

export interface RollbackReport {
  readonly runId: string;
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly account?: RunInfo['account'];
  readonly counts: Record<RollbackOutcome, number>;
  readonly items: readonly RollbackItem[];
}

export interface RollbackOptions {
  readonly runId: string;
  readonly store: Pick<WriteLedger, 'listWrites'> &
    Pick<IdMap, 'deleteIdMap' | 'getIdMap'> &
    Pick<RunStore, 'getRun'>;
  readonly client: ClinikoClient;
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly now?: () => Date;
  readonly onProgress?: (line: string) => void;
}

const RESOURCE_PATHS: Record<ResourceName, string> = {
  appointmentTypes: '/appointment_types',
  treatmentNoteTemplates: '/treatment_note_templates',
  contacts: '/contacts',
  patients: '/patients',
  appointments: '/individual_appointments',
  attachments: '/patient_attachments',
  treatmentNotes: '/treatment_notes',
};

/** A record's name in a reason, in Cliniko's words. */
const RESOURCE_WORDS: Record<ResourceName, string> = {
  appointmentTypes: 'appointment type',
  treatmentNoteTemplates: 'treatment note template',
  contacts: 'contact',
  patients: 'patient',
  appointments: 'appointment',
  attachments: 'attachment',
  treatmentNotes: 'treatment note',
};

const link = LinkObject.nullable().optional();
/**
 * What rollback reads of a record: reconciliation's fields and the link objects to the records it
 * refers to (contract/cliniko-openapi.yaml: a patient's `referring_doctor`, an appointment's `patient`
 * and `appointment_type`, an attachment's `patient`, a treatment note's `patient`, `booking` and
 * `treatment_note_template`; of the records a clinic makes after a run, FOREIGN_RESOURCES' links).
 */
export const RollbackRecord = AccountRecord.extend({
  appointment: link,
  appointment_type: link,
  contact: link,
  related_patient: link,
  booking: link,
  treatment_note_template: link,
  referring_doctor: link,
});
export type RollbackRecord = z.infer<typeof RollbackRecord>;
type LinkField =
  | 'patient'
  | 'appointment'
  | 'appointment_type'
  | 'contact'
  | 'related_patient'
  | 'booking'
  | 'treatment_note_template'
  | 'referring_doctor';

/**
 * The records a record of each resource refers to, by its response's link objects (Cliniko's
 * API documentation, the resources): only the links to resources a run creates. A treatment note's `booking` is the appointment
 * it was written for. ROLLBACK_ORDER puts every child before each of these parents (a test checks).
 */
export const PARENT_LINKS: Readonly<
  Record<ResourceName, readonly { readonly link: LinkField; readonly parent: ResourceName }[]>
> = {
  treatmentNotes: [
    { link: 'patient', parent: 'patients' },
    { link: 'booking', parent: 'appointments' },
    { link: 'treatment_note_template', parent: 'treatmentNoteTemplates' },
  ],
  attachments: [{ link: 'patient', parent: 'patients' }],
  appointments: [
    { link: 'patient', parent: 'patients' },
    { link: 'appointment_type', parent: 'appointmentTypes' },
  ],
  patients: [{ link: 'referring_doctor', parent: 'contacts' }],
  contacts: [],
  appointmentTypes: [],
  treatmentNoteTemplates: [],
};

/** A Cliniko resource no run creates but a clinic may, after a run, for a migrated record. */
export type ForeignResourceName =
  | 'medicalAlerts'
  | 'invoices'
  | 'patientCases'
  | 'patientForms'
  | 'relationships'
  | 'communications';
/** A resource whose records rollback lists to find what depends on the run's. */
export type ListedResource = ResourceName | ForeignResourceName;

/**
 * The resources a clinic can add records to after a migration that link to a patient, an
 * appointment or a contact a run creates, and that Cliniko lists with an `updated_at` filter
 * (contract/cliniko-openapi.yaml, each resource's list and schema): a medical alert's `patient`;
 * an invoice's `patient` and `appointment` (`/appointments/{id}`, the individual appointment's
 * id); a patient case's `patient` and `contact`; a patient form's `patient` and `booking` (an
 * individual appointment's id is its booking's); a relationship's `patient` and
 * `related_patient`; a communication's `patient`. Listed only for the changes since a run
 * started, never created or archived by one. Not listed: attendees (Cliniko makes one with each
 * individual appointment, the run's own included, so they are the appointment itself) and
 * referral sources (the run writes each migrated patient's own).
 */
export const FOREIGN_RESOURCES: Readonly<
  Record<
    ForeignResourceName,
    {
      readonly path: string;
      readonly collection: string;
      readonly word: string;
      readonly links: readonly { readonly link: LinkField; readonly parent: ResourceName }[];
    }
  >
> = {
  medicalAlerts: {
    path: '/medical_alerts',
    collection: 'medical_alerts',
    word: 'medical alert',
    links: [{ link: 'patient', parent: 'patients' }],
  },
  invoices: {
    path: '/invoices',
    collection: 'invoices',
    word: 'invoice',
    links: [
      { link: 'patient', parent: 'patients' },
      { link: 'appointment', parent: 'appointments' },
    ],
  },
  patientCases: {
    path: '/patient_cases',
    collection: 'patient_cases',
    word: 'patient case',
    links: [
      { link: 'patient', parent: 'patients' },
      { link: 'contact', parent: 'contacts' },
    ],
  },
  patientForms: {
    path: '/patient_forms',
    collection: 'patient_forms',
    word: 'patient form',
    links: [
      { link: 'patient', parent: 'patients' },
      { link: 'booking', parent: 'appointments' },
    ],
  },
  relationships: {
    path: '/relationships',
    collection: 'relationships',
    word: 'relationship',
    links: [
      { link: 'patient', parent: 'patients' },
      { link: 'related_patient', parent: 'patients' },
    ],
  },
  communications: {
    path: '/communications',
    collection: 'communications',
    word: 'communication',
    links: [{ link: 'patient', parent: 'patients' }],
  },
};

const isForeign = (r: string): r is ForeignResourceName => Object.hasOwn(FOREIGN_RESOURCES, r);
const linksOf = (r: ListedResource) => (isForeign(r) ? FOREIGN_RESOURCES[r].links : PARENT_LINKS[r]);
const wordOf = (r: ListedResource) => (isForeign(r) ? FOREIGN_RESOURCES[r].word : RESOURCE_WORDS[r]);

/** One record the run created, as Cliniko answers for it now (`record` absent: not found; `reason`: the read failed). */
export interface LocatedRecord {
  readonly item: Omit<RollbackItem, 'outcome'>;
  readonly record?: RollbackRecord;
  readonly reason?: string;
  /** A record whose read failed, as a list answered for it: what it references, so that stays. */
  readonly listed?: RollbackRecord;
}

/** A record's key among the run's: `patients#1234`. */
export const recordKey = (resource: ListedResource | 'unknown', clinikoId: string) =>
  `${resource}#${clinikoId}`;

/**
 * The records `record` (of `resource`) refers to, as `resource#id` keys of PARENT_LINKS' (or
 * FOREIGN_RESOURCES') parents.
 */
function parentsOf(resource: ListedResource | 'unknown', record: RollbackRecord) {
  if (resource === 'unknown') return [];
  const out: { key: string; parent: ResourceName; id: string }[] = [];
  for (const { link: field, parent } of linksOf(resource)) {
    const id = idFromLink(record[field]);
    if (id) out.push({ key: recordKey(parent, id), parent, id });
  }
  return out;
}

export async function rollback(options: RollbackOptions): Promise<RollbackReport> {
  const now = options.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const run = await options.store.getRun(options.runId);
  if (run.mode !== 'live') throw new RollbackError(`run ${options.runId} is a dry run: it wrote nothing`);

  // What the run created, one entry per Cliniko record (a notes PDF carries several notes).
  const created = new Map<
    string,
    { entity: CountedEntity; sourceIds: string[]; clinikoId: string; at?: string }
  >();
  for await (const w of options.store.listWrites(options.runId)) {
    if (w.outcome !== 'created' || !w.clinikoId) continue;
    const key = `${w.entity}#${w.clinikoId}`;
    const seen = created.get(key);
    if (seen) {
      seen.sourceIds.push(w.sourceId);
      if (w.at && (!seen.at || w.at > seen.at)) seen.at = w.at;
    } else
      created.set(key, {
        entity: w.entity,
        sourceIds: [w.sourceId],
        clinikoId: w.clinikoId,
        ...(w.at ? { at: w.at } : {}),
      });
  }

  // Which resource each record is (a clinical note is a PDF or a treatment note), and its state.
  const located: LocatedRecord[] = [];
  for (const c of created.values()) {
    const candidates = resourcesOf(c.entity);
    let found: { resource: ResourceName; record: RollbackRecord } | undefined;
    let reason: string | undefined;
    for (const r of candidates) {
      try {
        const record = await options.client.call('GET', `${RESOURCE_PATHS[r.name]}/${c.clinikoId}`, {
          schema: RollbackRecord,
          query: { 'q[]': ['archived_at:*'] },
        });
        found = { resource: r.name, record };
        break;
      } catch (err) {
        if (err instanceof ClinikoNotFoundError) continue;
        reason = (err as Error).message;
        break;
      }
    }
    located.push({
      item: {
        resource: found?.resource ?? candidates[0]?.name ?? 'unknown',
        entity: c.entity,
        sourceIds: c.sourceIds,
        clinikoId: c.clinikoId,
        ...(c.at ? { writtenAt: c.at } : {}),
        ...(found?.record.updated_at ? { updatedAt: found.record.updated_at } : {}),
      },
      ...(found ? { record: found.record } : {}),
      ...(reason ? { reason } : {}),
    });
  }

  // what the run did not create but refers to its records, read a page at a time (the run's own
  // records are among them: never all held at once)
  const keyOf = (l: LocatedRecord) => recordKey(l.item.resource, l.item.clinikoId);
  const ours = new Set(located.map(keyOf));
  const unread = new Set(located.filter((l) => l.reason).map(keyOf));
  const listedUnread = new Map<string, RollbackRecord>();
  const foreign = new Map<string, string>();
  const runAlerts = await runMedicalAlerts(options.store, run.scope, created.values());
  for await (const page of changedSince(options.client, located, run.startedAt)) {
    foreignDependants(ours, withoutRunAlerts(page, runAlerts, ours, options.force, foreign), foreign);
    for (const { resource, record } of page)
      if (unread.has(recordKey(resource, record.id)))
        listedUnread.set(recordKey(resource, record.id), record);
  }
  const withLinks = located.map((l) => {
    const listed = listedUnread.get(keyOf(l));
    return listed ? { ...l, listed } : l;
  });
  const items = await decide(withLinks, {
    foreign,
    force: options.force,
    dryRun: options.dryRun,
    runStartedAt: run.startedAt,
    archive: async (item) => {
      const path = item.resource === 'unknown' ? '' : RESOURCE_PATHS[item.resource];
      await options.client.call('POST', `${path}/${item.clinikoId}/archive`, { schema: undefined });
    },
    forget: async (item) => {
      for (const id of item.sourceIds) await options.store.deleteIdMap(run.scope, item.entity, id);
    },
  });
  const counts: Record<RollbackOutcome, number> = {
    archived: 0,
    wouldArchive: 0,
    alreadyArchived: 0,
    changed: 0,
    kept: 0,
    preexisting: 0,
    missing: 0,
    failed: 0,
  };
  for (const i of items) counts[i.outcome]++;
  return {
    runId: options.runId,
    dryRun: options.dryRun,
    force: options.force,
    startedAt,
    finishedAt: now().toISOString(),
    account: run.account,
    counts,
    items,
  };
}

/** How many source ids one id map read asks for. */
const ID_MAP_READ = 100;

/**
 * The medical alerts the run created after its patients (Cliniko id → when the run recorded the
 * patient's write, ISO 8601 UTC, if known): the ids its writer noted as id map steps
 * (medicalAlertStep) of the patients this run created, read 100 source ids a request. An entry
 * that now names another Cliniko record (written again since) is not this run's.
 */
async function runMedicalAlerts(
  store: Pick<IdMap, 'getIdMap'>,
  scope: string,
  created: Iterable<{ entity: CountedEntity; sourceIds: string[]; clinikoId: string; at?: string }>,
): Promise<Map<string, string | undefined>> {
  const patients = [...created].filter((c) => c.entity === 'patients');
  const alerts = new Map<string, string | undefined>();
  for (let i = 0; i < patients.length; i += ID_MAP_READ) {
    const batch = patients.slice(i, i + ID_MAP_READ);
    const entries = await store.getIdMap(
      scope,
      'patients',
      batch.flatMap((p) => p.sourceIds),
    );
    for (const p of batch)
      for (const id of p.sourceIds) {
        const entry = entries.get(id);
        if (entry?.clinikoId === p.clinikoId)
          for (const alert of medicalAlertsOf(entry)) alerts.set(alert, p.at);
      }
  }
  return alerts;
}

/**
 * `listed` without the run's own medical alerts (`runAlerts`, see runMedicalAlerts): an alert the
 * run made with a migrated patient is part of that patient's migration, not a clinic's record.
 * One changed in Cliniko after the run recorded its patient (`updated_at` later, the test
 * decide uses for the run's records) keeps the patient unless `force`, its reason added to `into`.
 */
function withoutRunAlerts(
  listed: readonly { readonly resource: ListedResource; readonly record: RollbackRecord }[],
  runAlerts: ReadonlyMap<string, string | undefined>,
  ours: ReadonlySet<string>,
  force: boolean,
  into: Map<string, string>,
): { resource: ListedResource; record: RollbackRecord }[] {
  return listed.filter(({ resource, record }) => {
    if (resource !== 'medicalAlerts' || !runAlerts.has(record.id)) return true;
    const writtenAt = runAlerts.get(record.id);
    const changed =
      !force &&
      !record.archived_at &&
      writtenAt !== undefined &&
      record.updated_at !== undefined &&
      record.updated_at !== null &&
      Date.parse(record.updated_at) > Date.parse(writtenAt);
    if (changed)
      for (const p of parentsOf(resource, record))
        if (ours.has(p.key) && !into.has(p.key))
          into.set(
            p.key,
            `kept because medical alert ${record.id}, which this run created with it, was changed in Cliniko at ${record.updated_at}, after the run wrote it at ${writtenAt} (--force archives it)`,
          );
    return false;
  });
}

/**
 * The records of the child resources that changed since the run started (`updated_at` at or after
 * its start, whole seconds UTC, by Cliniko's filter syntax; archived ones left out, cancelled
 * appointments in), page by page, for each child resource whose parents the run created: the
 * run's own child resources (ROLLBACK_ORDER) and those a clinic adds to after a migration
 * (FOREIGN_RESOURCES: medical alerts, invoices, patient cases, patient forms, relationships,
 * communications). A record that refers to a patient the run created
 * was made or moved onto it after the run started, so it is among these. Costs one request per 100
 * such records (the run's own among them), and one for each resource listed that has none.
 * @throws ClinikoError when a list cannot be read: nothing is archived without knowing what
 *   depends on it.
 */
async function* changedSince(
  client: ClinikoClient,
  located: readonly LocatedRecord[],
  runStartedAt: string,
): AsyncGenerator<{ resource: ListedResource; record: RollbackRecord }[]> {
  const createdResources = new Set(located.map((l) => l.item.resource));
  const started = Date.parse(runStartedAt);
  if (Number.isNaN(started)) throw new RollbackError(`the run's start ${runStartedAt} is not a date`);
  const since = new Date(Math.floor(started / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  for (const child of ROLLBACK_ORDER) {
    if (!PARENT_LINKS[child].some((l) => createdResources.has(l.parent))) continue;
    const q = [`updated_at:>=${since}`, ...(child === 'appointments' ? ['cancelled_at:*'] : [])];
    for await (const page of client.pages(
      RESOURCE_PATHS[child],
      resourceNamed(child).collection,
      RollbackRecord,
      q,
    ))
      yield page.map((record) => ({ resource: child, record }));
  }
  for (const [name, foreign] of Object.entries(FOREIGN_RESOURCES)) {
    if (!isForeign(name) || !foreign.links.some((l) => createdResources.has(l.parent))) continue;
    // Cliniko leaves archived records out of a list unless a filter names `archived_at`
    for await (const page of client.pages(foreign.path, foreign.collection, RollbackRecord, [
      `updated_at:>=${since}`,
    ]))
      yield page.map((record) => ({ resource: name, record }));
  }
}

/**
 * Adds to `into` the run's records (`ours`: `resource#clinikoId` keys) that a record the run did
 * not create refers to (`listed`: records of child resources read from the account, the run's
 * own resources' and FOREIGN_RESOURCES'; the run's own records among them are skipped, as are
 * archived ones): `resource#id` → the reason it is kept,
 * naming the first such child. Returns `into`.
 */
export function foreignDependants(
  ours: ReadonlySet<string>,
  listed: readonly { readonly resource: ListedResource; readonly record: RollbackRecord }[],
  into: Map<string, string> = new Map(),
): Map<string, string> {
  for (const { resource, record } of listed) {
    if (ours.has(recordKey(resource, record.id)) || record.archived_at) continue;
    for (const p of parentsOf(resource, record))
      if (ours.has(p.key) && !into.has(p.key))
        into.set(
          p.key,
          `kept because ${wordOf(resource)} ${record.id}, which this run did not create, references it in Cliniko`,
        );
  }
  return into;
}

export interface DecideOptions {
  /** The run's records that records it did not create refer to (see foreignDependants). */
  readonly foreign: ReadonlyMap<string, string>;
  readonly force: boolean;
  readonly dryRun: boolean;
  /** ISO 8601 UTC. */
  readonly runStartedAt: string;
  /** Archives one record in Cliniko; throws when it cannot. */
  readonly archive: (item: Omit<RollbackItem, 'outcome'>) => Promise<void>;
  /** Forgets an archived record's id map entries (never called in a dry run). */
  readonly forget: (item: Omit<RollbackItem, 'outcome'>) => Promise<void>;
}

/** Why a left child keeps its parents, by the child's outcome. */
const LEFT_BECAUSE: Partial<Record<RollbackOutcome, string>> = {
  changed: 'was changed in Cliniko after the run',
  kept: 'is kept',
  preexisting: 'was in Cliniko before the run',
  failed: 'could not be archived',
};

/**
 * Decides each record's outcome, children first (ROLLBACK_ORDER, whatever order `located` is in),
 * and archives it unless `dryRun`: a record left in Cliniko (changed, kept, there before the run,
 * failing to archive, or failing to be read: then its links are the ones `listed` gave) keeps each
 * record of the run it refers to (`kept`, with a reason naming it); so do records the run did not
 * create (`foreign`), even with `force`. Returns the items in the order decided.
 */
export async function decide(
  located: readonly LocatedRecord[],
  options: DecideOptions,
): Promise<RollbackItem[]> {
  const order = (r: RollbackItem['resource']) => (r === 'unknown' ? -1 : ROLLBACK_ORDER.indexOf(r));
  const sorted = [...located].sort((a, b) => order(a.item.resource) - order(b.item.resource));
  // kept for a child of the run's own left in Cliniko (named first: the run's own doing), else
  // for a record it did not create
  const keptBy = new Map<string, string>();
  const items: RollbackItem[] = [];
  for (const { item, record, reason, listed } of sorted) {
    let outcome: RollbackOutcome;
    let why = reason;
    const key = recordKey(item.resource, item.clinikoId);
    const own = keptBy.get(key);
    const other = options.foreign.get(key);
    let keptFor: RollbackItem['keptFor'];
    if (reason) outcome = 'failed';
    else if (!record) outcome = 'missing';
    else if (record.archived_at) outcome = 'alreadyArchived';
    else if (createdBefore(record, options.runStartedAt)) {
      outcome = 'preexisting';
      why = `created in Cliniko at ${record.created_at}, before the run started at ${options.runStartedAt}: not the run's record, left`;
    } else if (
      !options.force &&
      item.writtenAt &&
      record.updated_at &&
      Date.parse(record.updated_at) > Date.parse(item.writtenAt)
    ) {
      outcome = 'changed';
      why = `changed in Cliniko at ${record.updated_at}, after the run wrote it at ${item.writtenAt}: left (--force archives it)`;
    } else if (own || other) {
      outcome = 'kept';
      why = own ?? other;
      keptFor = own ? 'runRecord' : 'otherRecord';
    } else if (options.dryRun) outcome = 'wouldArchive';
    else {
      try {
        await options.archive(item);
        outcome = 'archived';
      } catch (err) {
        outcome = 'failed';
        why = (err as Error).message;
      }
    }
    // A record left in Cliniko keeps what it refers to: archiving that would orphan it.
    const left = reason ? 'could not be read' : LEFT_BECAUSE[outcome];
    const links = record ?? listed;
    const resource = item.resource;
    if (left && links && resource !== 'unknown')
      for (const p of parentsOf(resource, links))
        if (!keptBy.has(p.key))
          keptBy.set(
            p.key,
            `kept because ${RESOURCE_WORDS[resource]} ${item.clinikoId} that references it ${left}`,
          );
    // An archived record is no longer the clinic's: a later run writes it again.
    if (outcome === 'archived' || outcome === 'alreadyArchived' || outcome === 'missing')
      if (!options.dryRun) await options.forget(item);
    items.push({ ...item, outcome, ...(why ? { reason: why } : {}), ...(keptFor ? { keptFor } : {}) });
  }
  return items;
}

/** Created before the instant (Cliniko's whole seconds against the run's start, both UTC). */
function createdBefore(record: RollbackRecord, startedAt: string): boolean {
  const created = record.created_at ? Date.parse(record.created_at) : Number.NaN;
  const started = Date.parse(startedAt);
  return !Number.isNaN(created) && !Number.isNaN(started) && created < Math.floor(started / 1000) * 1000;
}

export class RollbackError extends Error {
  override name = 'RollbackError';
}

/** rollback.csv: one row per record, for a clinic manager's spreadsheet. */
export function rollbackCsv(report: RollbackReport): string {
  const cell = (v: unknown) => {
    let s = v === undefined ? '' : String(v);
    if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = ['resource,entity,sourceIds,clinikoId,outcome,writtenAt,updatedAt,reason'];
  for (const i of report.items)
    lines.push(
      [
        i.resource,
        i.entity,
        i.sourceIds.join(' '),
        i.clinikoId,
        i.outcome,
        i.writtenAt,
        i.updatedAt,
        i.reason,
      ]
        .map(cell)
        .join(','),
    );
  return `${lines.join('\r\n')}\r\n`;
}
