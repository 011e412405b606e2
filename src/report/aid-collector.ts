import type * as M from '../core/canonical.js';
import { countAttended } from '../mapping/arrivals.js';
import type { PatientPlan } from '../mapping/cliniko-bodies.js';
import {
  type AidsSnapshot,
  APPOINTMENT_SAMPLE,
  CLIENT_SAMPLE,
  type ClientDocuments,
  type SampledAppointment,
  type SampledClient,
  type WeekCounts,
} from './aids-model.js';
import { inZone, LowestK, weekOf } from './aids-sampling.js';

/**
 * What one batch (or one whole scan) sees for the approval aids, row by row: sampled clients and
 * appointments, appointments per week, the followed clients' notes and documents. Its snapshot
 * is merged with the other batches' by `approvalAids`.
 */
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
