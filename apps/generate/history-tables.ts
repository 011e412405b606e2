import { csvLine, dmy, pad } from './export-zip.js';
import type { Generation } from './generation.js';
import { DST_DAYS, LOCATIONS, PRACTITIONERS, TYPES } from './vocabulary.js';

/**
 * Appointments.csv: renamed and reordered headers, times in 12- and 24-hour clocks, DST gaps and
 * overlaps, dangling clients, unknown types, impossible dates, cancellations
 * (docs/EXPORT-FORMAT.md).
 */
export function* appointmentRows(g: Generation): Generator<string> {
  yield csvLine([
    'Appointment ID',
    'start date',
    'Start_Time',
    'client id',
    'PractitionerId',
    'LocationId',
    'AppointmentTypeId',
    'DurationMinutes',
    'Status',
    'CancellationReason',
    'CancelledDate',
    'Notes',
  ]);
  for (let i = 1; i <= g.appointments; i++) {
    const client =
      g.chance(0.002) || g.forced(i, 3) ? `C${g.n + 1000 + i}` : `C${1 + Math.floor(g.random() * g.n)}`;
    const [pid] = PRACTITIONERS[Math.floor(g.random() * PRACTITIONERS.length)] ?? PRACTITIONERS[0];
    let loc: string = LOCATIONS[Math.floor(g.random() * LOCATIONS.length)]?.id ?? 'L1';
    const [tid, , duration] = TYPES[Math.floor(g.random() * TYPES.length)] ?? TYPES[0];
    let day = g.someDay();
    let time = `${pad(7 + Math.floor(g.random() * 11))}:${g.pick(['00', '15', '30', '45'])}`;
    if (g.messy && i % 5000 === 17) {
      const edge = DST_DAYS[Math.floor(i / 5000) % DST_DAYS.length] ?? DST_DAYS[0];
      loc = edge.zone;
      day = new Date(Date.UTC(edge.date[0], edge.date[1] - 1, edge.date[2]));
      time = '02:30';
    }
    const statusRoll = g.random();
    const status =
      day.getTime() > Date.UTC(2026, 9, 1)
        ? 'Booked'
        : statusRoll < 0.08
          ? 'Cancelled'
          : statusRoll < 0.12
            ? 'DNA'
            : statusRoll < 0.5
              ? 'Arrived'
              : 'Completed';
    const cancelled = status === 'Cancelled';
    g.count('appointments');
    yield csvLine([
      `A${i}`,
      g.chance(0.001) ? '13/13/2024' : dmy(day),
      g.random() < 0.2
        ? `${Number(time.slice(0, 2)) % 12 || 12}:${time.slice(3)} ${Number(time.slice(0, 2)) < 12 ? 'AM' : 'PM'}`
        : time,
      client,
      pid,
      g.chance(0.01) ? '' : loc,
      g.chance(0.01) ? 'T99' : tid,
      duration,
      status,
      cancelled
        ? g.pick(['Feeling better', 'Sick', 'Away on holiday', 'Work commitments', 'No reason given'])
        : '',
      cancelled ? dmy(new Date(day.getTime() - 86_400_000)) : '',
      g.random() < 0.1 ? 'Bring referral letter, "urgent"' : '',
    ]);
  }
}

/** ClinicalNotes.csv: SOAP and standard notes, multi-line and quoted, with non-ASCII text. */
export function* clinicalNoteRows(g: Generation): Generator<string> {
  yield csvLine([
    'NoteId',
    'ClientId',
    'NoteDate',
    'PractitionerId',
    'AppointmentId',
    'NoteType',
    'AssessmentType',
    'Subjective',
    'Objective',
    'Assessment',
    'Plan',
    'Body',
  ]);
  for (let i = 1; i <= g.notes; i++) {
    const soap = g.random() < 0.7;
    g.count('clinicalNotes');
    yield csvLine([
      `N${i}`,
      `C${1 + Math.floor(g.random() * g.n)}`,
      dmy(g.someDay()),
      PRACTITIONERS[Math.floor(g.random() * 5)]?.[0],
      '',
      g.pick(['Initial Assessment', 'Treatment', 'Discharge']),
      soap ? 'SOAP' : 'Standard',
      soap
        ? `Left knee pain for ${1 + Math.floor(g.random() * 8)} weeks, worse on stairs.\nNo night pain.`
        : '',
      soap ? 'Swelling +, ROM 0–110°, "crepitus" on flexion' : '',
      soap ? 'Patellofemoral pain, improving' : '',
      soap ? '1. Quads strengthening\n2. Review in 2 weeks' : '',
      soap
        ? ''
        : `Treatment notes: soft tissue release, taping.\nPatient advised: ice, rest; "no running" for 2 weeks. Tēnā koe.`,
    ]);
  }
}
