import { createHash } from 'node:crypto';
import type * as M from '../core/canonical.js';
import type { Problem } from '../core/problem.js';
import { countAttended } from '../mapping/arrivals.js';
import type { PatientPlan } from '../mapping/cliniko-bodies.js';

/**
 * What a clinic checks by hand before it signs off (anchors.md §5.1), done for it: 20 clients
 * field by field as exported and as sent to Cliniko, the busiest week's appointments per
 * practitioner and location, appointments shown in local time and in the business's zone with
 * DST edge cases, each sampled client's notes in date order and attachments with bytes, and date
 * columns whose day/month order is ambiguous.
 *
 * Samples are deterministic: the records whose source ids hash lowest. So the same export gives
 * the same sample however it is split into batches, and batch collectors merge exactly: a
 * client in the overall sample is always among the lowest hashes of any batch that holds it.
 */
export const CLIENT_SAMPLE = 20;
export const APPOINTMENT_SAMPLE = 12;

const rank = (id: string) => createHash('sha256').update(id).digest('hex').slice(0, 16);

export interface SampledClient {
  readonly sourceId: string;
  readonly file: string;
  readonly row: number;
  readonly asExported: Readonly<Record<string, string>>;
  /** The body sent (or, in a dry run, to be sent) to Cliniko; absent for an invalid row. */
  readonly asSent?: Readonly<Record<string, unknown>>;
  readonly outcome: string;
}

export interface SampledAppointment {
  readonly sourceId: string;
  readonly clientSourceId: string;
  readonly practitionerSourceId: string;
  readonly locationSourceId?: string;
  /** As exported, in the zone it was read in. */
  readonly local: string;
  readonly timeZone: string;
  /** Sent to Cliniko. */
  readonly utc: string;
  /** The same instant as the Cliniko business shows it, in its zone. */
  readonly inBusinessZone: string;
  /** The IANA zone of the Cliniko business it went to. */
  readonly businessZone?: string;
  /** Names as exported, filled in by the report. */
  readonly practitionerName?: string;
  readonly locationName?: string;
  readonly status: string;
}

export interface WeekCounts {
  total: number;
  byPractitioner: Record<string, number>;
  byLocation: Record<string, number>;
}

export interface ClientDocuments {
  /** `row`: the note's row in ClinicalNotes.csv, so export order survives merging batches. */
  notes: { sourceId: string; date: string; noteType?: string; row: number }[];
  letters: number;
  uploads: number;
  bytes: number;
}

/** What one batch (or one whole scan) saw: serialisable, and merged by the report. */
export interface AidsSnapshot {
  clients: SampledClient[];
  /** Monday (yyyy-mm-dd, local) → counts. */
  weeks: Record<string, WeekCounts>;
  appointments: SampledAppointment[];
  documents: Record<string, ClientDocuments>;
  documentTotals: { letters: number; uploads: number; bytes: number };
  /** Attended appointments by UTC day: what marking arrivals costs (see migration/arrivals.ts). */
  attendedByDay?: Record<string, number>;
}

export interface BusyWeek {
  readonly weekStart: string;
  readonly weekEnd: string;
  readonly appointments: number;
  readonly byPractitioner: { sourceId: string; name?: string; source: number; cliniko?: number }[];
  readonly byLocation: { sourceId: string; name?: string; source: number; cliniko?: number }[];
}

export interface ApprovalAids {
  readonly clientSample: readonly SampledClient[];
  readonly busiestWeek: BusyWeek | null;
  readonly appointmentSample: readonly SampledAppointment[];
  readonly dstEdgeCases: readonly Pick<Problem, 'sourceId' | 'file' | 'row' | 'code' | 'message'>[];
  readonly notesByClient: readonly {
    clientSourceId: string;
    notes: ClientDocuments['notes'];
    inDateOrder: boolean;
  }[];
  readonly attachmentsByClient: readonly {
    clientSourceId: string;
    letters: number;
    uploads: number;
    bytes: number;
  }[];
  readonly attachmentTotals: { letters: number; uploads: number; bytes: number };
  readonly ambiguousDateColumns: readonly Pick<Problem, 'file' | 'field' | 'message'>[];
}

export function emptySnapshot(): AidsSnapshot {
  return {
    clients: [],
    weeks: {},
    appointments: [],
    documents: {},
    documentTotals: { letters: 0, uploads: 0, bytes: 0 },
  };
}

function keepLowest<T>(list: readonly T[], id: (t: T) => string, limit: number): T[] {
  return list
    .map((t) => [rank(id(t)), t] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, limit)
    .map(([, t]) => t);
}

/**
 * The `limit` lowest-ranked entries seen, by id. One hash per record; a record that cannot get
 * in is rejected before anything is built for it, so a scan of 150,000 rows stays fast.
 */
class LowestK<T> {
  private readonly entries: { rank: string; id: string; value: T }[] = [];
  constructor(private readonly limit: number) {}

  /** Whether `id` would be kept now (so its value is worth building). */
  admits(id: string): string | undefined {
    const r = rank(id);
    if (this.entries.some((e) => e.id === id)) return r;
    const worst = this.entries[this.entries.length - 1];
    return this.entries.length < this.limit || (worst && r < worst.rank) ? r : undefined;
  }

  /** Adds it, and returns the id pushed out, if any. */
  add(id: string, r: string, value: T): string | undefined {
    const at = this.entries.findIndex((e) => e.id === id);
    if (at >= 0) {
      (this.entries[at] as { value: T }).value = value;
      return undefined;
    }
    let i = this.entries.length;
    while (i > 0 && (this.entries[i - 1]?.rank ?? '') > r) i--;
    this.entries.splice(i, 0, { rank: r, id, value });
    return this.entries.length > this.limit ? this.entries.pop()?.id : undefined;
  }

  get(id: string): T | undefined {
    return this.entries.find((e) => e.id === id)?.value;
  }

  values(): T[] {
    return this.entries.map((e) => e.value);
  }

  byId(): Record<string, T> {
    return Object.fromEntries(this.entries.map((e) => [e.id, e.value]));
  }
}

const weeks = new Map<string, string>();
/** Monday of the week of a local yyyy-mm-dd date (remembered: an export has a few thousand days). */
export function weekOf(localDate: string): string {
  const day = localDate.slice(0, 10);
  let monday = weeks.get(day);
  if (!monday) {
    const d = new Date(`${day}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
    monday = d.toISOString().slice(0, 10);
    if (weeks.size < 100_000) weeks.set(day, monday);
  }
  return monday;
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();
function inZone(utc: string, zone: string): string {
  try {
    let f = zoneFormats.get(zone);
    if (!f) {
      f = new Intl.DateTimeFormat('en-CA', {
        timeZone: zone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
        timeZoneName: 'short',
      });
      zoneFormats.set(zone, f);
    }
    const parts = f.formatToParts(new Date(utc));
    const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
    return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} ${get('timeZoneName')} (${zone})`;
  } catch {
    return utc;
  }
}

export class AidCollector {
  private readonly clients = new LowestK<SampledClient>(CLIENT_SAMPLE);
  private readonly appointments = new LowestK<SampledAppointment>(APPOINTMENT_SAMPLE);
  /** Clients whose documents are followed: the lowest hashes seen in this collector. */
  private readonly followed = new LowestK<ClientDocuments>(CLIENT_SAMPLE);
  private readonly weeks: Record<string, WeekCounts> = {};
  private readonly totals = { letters: 0, uploads: 0, bytes: 0 };
  private readonly attendedByDay: Record<string, number> = {};

  /**
   * A client row: sampled with what was exported and what Cliniko is (or would be) sent: `sent`
   * is the patient's body as the batch mapped it, shown without ids of other records (a dry run
   * has none), so a dry run's sample and a live run's read the same.
   */
  client(
    row: { row: number; values: Readonly<Record<string, string>> },
    file: string,
    outcome: string,
    sent?: PatientPlan,
  ): void {
    const sourceId = row.values.ClientId ?? '';
    if (!sourceId) return;
    const r = this.clients.admits(sourceId);
    if (r === undefined) return;
    const { referring_doctor_id: _id, ...body } = sent?.body ?? {};
    this.clients.add(sourceId, r, {
      sourceId,
      file,
      row: row.row,
      asExported: { ...row.values },
      ...(sent
        ? { asSent: { ...body, ...(sent.alerts.length ? { medical_alerts: sent.alerts } : {}) } }
        : {}),
      outcome,
    });
  }

  appointment(a: M.Appointment, businessZone: string): void {
    countAttended(this.attendedByDay, a);
    const week = weekOf(a.localStart);
    const w = this.weeks[week] ?? { total: 0, byPractitioner: {}, byLocation: {} };
    this.weeks[week] = w;
    w.total++;
    w.byPractitioner[a.practitionerSourceId] = (w.byPractitioner[a.practitionerSourceId] ?? 0) + 1;
    const loc = a.locationSourceId ?? '(default business)';
    w.byLocation[loc] = (w.byLocation[loc] ?? 0) + 1;
    const r = this.appointments.admits(a.sourceId);
    if (r === undefined) return;
    this.appointments.add(a.sourceId, r, {
      sourceId: a.sourceId,
      clientSourceId: a.patientSourceId,
      practitionerSourceId: a.practitionerSourceId,
      ...(a.locationSourceId ? { locationSourceId: a.locationSourceId } : {}),
      local: a.localStart,
      timeZone: a.timeZone,
      utc: a.startsAt,
      inBusinessZone: inZone(a.startsAt, businessZone),
      businessZone,
      status: a.status,
    });
  }

  /** The documents of a client still followed; a client pushed out can never be in the sample. */
  private docsOf(clientId: string): ClientDocuments | undefined {
    const known = this.followed.get(clientId);
    if (known) return known;
    const r = this.followed.admits(clientId);
    if (r === undefined) return undefined;
    const docs: ClientDocuments = { notes: [], letters: 0, uploads: 0, bytes: 0 };
    this.followed.add(clientId, r, docs);
    return docs;
  }

  note(n: M.ClinicalNote, row: number): void {
    this.docsOf(n.patientSourceId)?.notes.push({
      sourceId: n.sourceId,
      date: n.date,
      ...(n.noteType ? { noteType: n.noteType } : {}),
      row,
    });
  }

  document(d: M.Document): void {
    if (d.kind === 'letter') this.totals.letters++;
    else this.totals.uploads++;
    this.totals.bytes += d.size;
    const c = this.docsOf(d.patientSourceId);
    if (!c) return;
    if (d.kind === 'letter') c.letters++;
    else c.uploads++;
    c.bytes += d.size;
  }

  snapshot(): AidsSnapshot {
    return {
      clients: this.clients.values(),
      weeks: this.weeks,
      appointments: this.appointments.values(),
      documents: this.followed.byId(),
      documentTotals: { ...this.totals },
      attendedByDay: this.attendedByDay,
    };
  }
}

/** Merges batch snapshots and the run's problems into the report's approval aids. */
export function approvalAids(
  snapshots: readonly AidsSnapshot[],
  problems: readonly Problem[],
  names: {
    practitioner?: (sourceId: string) => string | undefined;
    location?: (sourceId: string) => string | undefined;
  } = {},
): ApprovalAids {
  const clients = keepLowest(
    snapshots.flatMap((s) => s.clients),
    (c) => c.sourceId,
    CLIENT_SAMPLE,
  );
  const sampled = clients.map((c) => c.sourceId);
  const weeks: Record<string, WeekCounts> = {};
  for (const s of snapshots)
    for (const [week, w] of Object.entries(s.weeks)) {
      const into = weeks[week] ?? { total: 0, byPractitioner: {}, byLocation: {} };
      weeks[week] = into;
      into.total += w.total;
      for (const [k, n] of Object.entries(w.byPractitioner))
        into.byPractitioner[k] = (into.byPractitioner[k] ?? 0) + n;
      for (const [k, n] of Object.entries(w.byLocation)) into.byLocation[k] = (into.byLocation[k] ?? 0) + n;
    }
  // The busiest week; the earliest of equals, so the choice never depends on order.
  const busiest = Object.entries(weeks).sort(([a, x], [b, y]) => y.total - x.total || (a < b ? -1 : 1))[0];
  let busiestWeek: BusyWeek | null = null;
  if (busiest) {
    const [weekStart, w] = busiest;
    const end = new Date(`${weekStart}T00:00:00Z`);
    end.setUTCDate(end.getUTCDate() + 6);
    busiestWeek = {
      weekStart,
      weekEnd: end.toISOString().slice(0, 10),
      appointments: w.total,
      byPractitioner: Object.entries(w.byPractitioner)
        .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
        .map(([sourceId, source]) => {
          const name = names.practitioner?.(sourceId);
          return { sourceId, ...(name ? { name } : {}), source };
        }),
      byLocation: Object.entries(w.byLocation)
        .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
        .map(([sourceId, source]) => {
          const name = names.location?.(sourceId);
          return { sourceId, ...(name ? { name } : {}), source };
        }),
    };
  }
  const documents: Record<string, ClientDocuments> = {};
  for (const s of snapshots)
    for (const [id, d] of Object.entries(s.documents)) {
      if (!sampled.includes(id)) continue;
      const into = documents[id] ?? { notes: [], letters: 0, uploads: 0, bytes: 0 };
      documents[id] = into;
      into.notes.push(...d.notes);
      into.letters += d.letters;
      into.uploads += d.uploads;
      into.bytes += d.bytes;
    }
  const totals = { letters: 0, uploads: 0, bytes: 0 };
  for (const s of snapshots) {
    totals.letters += s.documentTotals.letters;
    totals.uploads += s.documentTotals.uploads;
    totals.bytes += s.documentTotals.bytes;
  }
  return {
    clientSample: clients,
    busiestWeek,
    appointmentSample: keepLowest(
      snapshots.flatMap((s) => s.appointments),
      (a) => a.sourceId,
      APPOINTMENT_SAMPLE,
    ).map((a) => {
      const practitionerName = names.practitioner?.(a.practitionerSourceId);
      const locationName = a.locationSourceId ? names.location?.(a.locationSourceId) : undefined;
      return {
        ...a,
        ...(practitionerName ? { practitionerName } : {}),
        ...(locationName ? { locationName } : {}),
      };
    }),
    dstEdgeCases: problems
      .filter((p) => p.code === 'DST_GAP' || p.code === 'DST_OVERLAP')
      .slice(0, 100)
      .map(({ sourceId, file, row, code, message }) => ({ sourceId, file, row, code, message })),
    notesByClient: sampled
      .filter((id) => documents[id]?.notes.length)
      .map((id) => {
        const exported = [...(documents[id]?.notes ?? [])].sort((a, b) => a.row - b.row);
        const sorted = [...exported].sort((a, b) =>
          a.date === b.date
            ? a.sourceId.localeCompare(b.sourceId, 'en', { numeric: true })
            : a.date < b.date
              ? -1
              : 1,
        );
        return {
          clientSourceId: id,
          notes: sorted,
          // as exported: were they already in date order (the PDF puts them in order either way)?
          inDateOrder: exported.every((n, i) => i === 0 || (exported[i - 1]?.date ?? '') <= n.date),
        };
      }),
    attachmentsByClient: sampled
      .filter((id) => (documents[id]?.letters ?? 0) + (documents[id]?.uploads ?? 0) > 0)
      .map((id) => ({
        clientSourceId: id,
        letters: documents[id]?.letters ?? 0,
        uploads: documents[id]?.uploads ?? 0,
        bytes: documents[id]?.bytes ?? 0,
      })),
    attachmentTotals: totals,
    ambiguousDateColumns: problems
      .filter((p) => p.code === 'DATE_ORDER_AMBIGUOUS')
      .map(({ file, field, message }) => ({ file, field, message })),
  };
}
