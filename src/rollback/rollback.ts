import type { ClinikoClient } from '../cliniko/client.js';
import { ClinikoNotFoundError } from '../cliniko/errors.js';
import type { CountedEntity } from '../core/entities.js';
import type { IdMap } from '../ports/id-map.js';
import type { RunInfo, RunStore } from '../ports/runs.js';
import type { WriteLedger } from '../ports/write-ledger.js';
import { AccountRecord, type ResourceName, ROLLBACK_ORDER, resourcesOf } from '../reconcile/resources.js';

/**
 * Rollback of a live run (docs/RUNNING.md, `rollback`; issue 11): archives in Cliniko every record
 * the run created, and nothing else (records it found, adopted, linked or updated stay), newest
 * dependants first (treatment notes and attachments, appointments, patients, contacts,
 * appointment types, templates; the order is reconcile/resources.ts's ROLLBACK_ORDER). A record
 * changed in Cliniko after the run wrote it (`updated_at` later than the write) is left and
 * listed unless `force`. Archiving is Cliniko's delete (`POST …/{id}/archive`); a record already
 * archived counts as done, so a second rollback archives nothing. A record Cliniko says was
 * created before the run started (`created_at`) is not the run's, whatever its state says (a
 * record re-found after a lost answer, recorded by an older version): it is left and listed as
 * `preexisting`, even with `force`. `dryRun` only lists.
 */
export type RollbackOutcome =
  | 'archived'
  | 'wouldArchive'
  | 'alreadyArchived'
  | 'changed'
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
  readonly store: Pick<WriteLedger, 'listWrites'> & Pick<IdMap, 'deleteIdMap'> & Pick<RunStore, 'getRun'>;
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
  const located: { item: Omit<RollbackItem, 'outcome'>; record?: AccountRecord; reason?: string }[] = [];
  for (const c of created.values()) {
    const candidates = resourcesOf(c.entity);
    let found: { resource: ResourceName; record: AccountRecord } | undefined;
    let reason: string | undefined;
    for (const r of candidates) {
      try {
        const record = await options.client.call('GET', `${RESOURCE_PATHS[r.name]}/${c.clinikoId}`, {
          schema: AccountRecord,
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
  const order = (r: RollbackItem['resource']) => (r === 'unknown' ? -1 : ROLLBACK_ORDER.indexOf(r));
  located.sort((a, b) => order(a.item.resource) - order(b.item.resource));

  const items: RollbackItem[] = [];
  for (const { item, record, reason } of located) {
    let outcome: RollbackOutcome;
    let why = reason;
    if (reason) outcome = 'failed';
    else if (!record) outcome = 'missing';
    else if (record.archived_at) outcome = 'alreadyArchived';
    else if (createdBefore(record, run.startedAt)) {
      outcome = 'preexisting';
      why = `created in Cliniko at ${record.created_at}, before the run started at ${run.startedAt}: not the run's record, left`;
    } else if (
      !options.force &&
      item.writtenAt &&
      record.updated_at &&
      Date.parse(record.updated_at) > Date.parse(item.writtenAt)
    ) {
      outcome = 'changed';
      why = `changed in Cliniko at ${record.updated_at}, after the run wrote it at ${item.writtenAt}: left (--force archives it)`;
    } else if (options.dryRun) outcome = 'wouldArchive';
    else {
      try {
        const path = item.resource === 'unknown' ? '' : RESOURCE_PATHS[item.resource];
        await options.client.call('POST', `${path}/${item.clinikoId}/archive`, { schema: undefined });
        outcome = 'archived';
      } catch (err) {
        outcome = 'failed';
        why = (err as Error).message;
      }
    }
    // An archived record is no longer the clinic's: a later run writes it again.
    if (outcome === 'archived' || outcome === 'alreadyArchived' || outcome === 'missing')
      if (!options.dryRun)
        for (const id of item.sourceIds) await options.store.deleteIdMap(run.scope, item.entity, id);
    items.push({ ...item, outcome, ...(why ? { reason: why } : {}) });
  }
  const counts: Record<RollbackOutcome, number> = {
    archived: 0,
    wouldArchive: 0,
    alreadyArchived: 0,
    changed: 0,
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

/** Created before the instant (Cliniko's whole seconds against the run's start, both UTC). */
function createdBefore(record: AccountRecord, startedAt: string): boolean {
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
