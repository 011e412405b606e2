import type * as M from '../core/canonical.js';
import type { RowResult } from '../core/problem.js';
import { clinicTime, localToUtc, toUtcString } from '../core/time-zone.js';
import { formatDate, type LocalDate, type LocalTime, parseTime, parseWholeNumber } from '../core/values.js';
import type { SourceRow } from '../source/csv.js';
import type { RowContext } from './row-context.js';
import { checkParent, type RowProblems } from './row-problems.js';
import { compact, readRow } from './row-reader.js';

const STATUS: Record<string, M.AppointmentStatus> = {
  booked: 'booked',
  confirmed: 'booked',
  arrived: 'arrived',
  completed: 'completed',
  complete: 'completed',
  attended: 'completed',
  cancelled: 'cancelled',
  canceled: 'cancelled',
  dna: 'did-not-arrive',
  'did not arrive': 'did-not-arrive',
  'did not attend': 'did-not-arrive',
  'no show': 'did-not-arrive',
};

/** Cliniko's cancellation reason codes, chosen from the source's free-text reason. */
export function cancellationCode(reason: string | undefined): number {
  const r = (reason ?? '').toLowerCase();
  if (/covid/.test(r)) return 31;
  if (/better|improv|recovered/.test(r)) return 10;
  if (/worse/.test(r)) return 20;
  if (/sick|ill|unwell/.test(r)) return 30;
  if (/away|holiday|travel|vacation/.test(r)) return 40;
  if (/work/.test(r)) return 60;
  return 50;
}

/**
 * An Appointments.csv row → an appointment (docs/EXPORT-FORMAT.md, The tables: Appointments.csv):
 * its client and practitioner must be usable, an unknown location or type falls back to the
 * clinic's defaults, the local start becomes UTC in the location's zone (a DST gap or overlap
 * reported), the end comes from EndTime, else DurationMinutes, else the type; a cancellation gets
 * Cliniko's reason code.
 */
export function buildAppointment(row: SourceRow, ctx: RowContext): RowResult<M.Appointment> {
  const { p, v, required, optional, date, sourceId } = readRow(ctx, row, 'AppointmentId');
  required('AppointmentId');
  const clientId = required('ClientId');
  const practitionerId = required('PractitionerId');
  const day = date('StartDate', true);
  const startRaw = required('StartTime');
  const startTime = startRaw ? parseTime(startRaw) : undefined;
  if (startTime && !startTime.ok) p.error('StartTime', 'INVALID_TIME', `StartTime ${startTime.reason}`);
  checkParent(p, ctx, clientId);
  checkPractitioner(p, ctx, practitionerId);
  const { locationId, zone } = appointmentLocation(p, ctx, optional('LocationId'));
  const typeId = appointmentType(p, ctx, optional('AppointmentTypeId'));
  const status = appointmentStatus(p, v);

  if (p.invalid || !day || !startTime?.ok) return p.result<M.Appointment>(undefined);

  const { start, localStart } = startInZone(p, day, startTime.value, zone);
  const endsAt = appointmentEnd(p, v, day, start, zone);
  const reason = optional('CancellationReason');
  const cancelledDate = optional('CancelledDate');
  const record = compact({
    sourceId,
    patientSourceId: clientId,
    practitionerSourceId: practitionerId,
    locationSourceId: locationId,
    appointmentTypeSourceId: typeId,
    localStart,
    timeZone: zone,
    startsAt: toUtcString(start),
    endsAt,
    status,
    cancellationReason: status === 'cancelled' ? cancellationCode(reason) : undefined,
    cancellationNote:
      status === 'cancelled'
        ? [reason, cancelledDate ? `cancelled ${cancelledDate}` : undefined].filter(Boolean).join('; ') ||
          undefined
        : undefined,
    notes: optional('Notes'),
  });
  return p.result(record);
}

/** The practitioner must be in Practitioners.csv and matched; an excluded one skips the row. */
function checkPractitioner(p: RowProblems, ctx: RowContext, practitionerId: string): void {
  if (!practitionerId) return;
  const practitioner = ctx.refs.practitioner(practitionerId);
  if (!practitioner)
    p.error(
      'PractitionerId',
      'PARENT_MISSING',
      `PractitionerId ${practitionerId} is not in Practitioners.csv`,
    );
  else if (practitioner.status === 'unmatched') {
    p.error(
      'PractitionerId',
      'UNMATCHED_PRACTITIONER',
      `practitioner ${practitionerId} matches no Cliniko practitioner (unmatchedPractitioners: "fail")`,
    );
  } else if (practitioner.status === 'excluded') {
    p.skip(
      'PractitionerId',
      'PRACTITIONER_EXCLUDED',
      `practitioner ${practitionerId} is excluded by unmatchedPractitioners: "exclude"`,
    );
  }
}

/** The row's location (missing or unknown: the default business, a warning) and its time zone. */
function appointmentLocation(
  p: RowProblems,
  ctx: RowContext,
  given: string | undefined,
): { locationId: string | undefined; zone: string } {
  const location = given ? ctx.refs.location(given) : undefined;
  if (!given)
    p.warn('LocationId', 'LOCATION_MISSING', "no LocationId; the clinic's default business is used");
  else if (!location) {
    p.warn(
      'LocationId',
      'LOCATION_UNKNOWN',
      `LocationId ${given} is not in Locations.csv; the clinic's default business is used`,
    );
  }
  return { locationId: location ? given : undefined, zone: location?.timeZone ?? ctx.refs.defaultTimeZone };
}

/** The row's appointment type; missing or unknown: "Migrated appointment" (a warning). */
function appointmentType(p: RowProblems, ctx: RowContext, typeId: string | undefined): string | undefined {
  if (!typeId) {
    p.warn(
      'AppointmentTypeId',
      'APPOINTMENT_TYPE_MISSING',
      'no AppointmentTypeId; "Migrated appointment" is used',
    );
    return undefined;
  }
  if (ctx.refs.appointmentType(typeId)) return typeId;
  p.warn(
    'AppointmentTypeId',
    'APPOINTMENT_TYPE_UNKNOWN',
    `AppointmentTypeId ${typeId} is not in AppointmentTypes.csv; "Migrated appointment" is used`,
  );
  return undefined;
}

/** Status from its words; unknown: booked (a warning); none but a cancellation date or reason: cancelled. */
function appointmentStatus(p: RowProblems, v: Record<string, string>): M.AppointmentStatus {
  const statusRaw = (v.Status ?? '').trim().toLowerCase();
  let status: M.AppointmentStatus = STATUS[statusRaw] ?? 'booked';
  if (statusRaw && !STATUS[statusRaw]) {
    p.warn(
      'Status',
      'UNKNOWN_VALUE',
      `Status "${v.Status}" is not Booked, Arrived, Completed, Cancelled or DNA; kept as booked`,
    );
  }
  if (status !== 'cancelled' && (v.CancelledDate || v.CancellationReason) && !statusRaw) status = 'cancelled';
  return status;
}

/** The local start in UTC, and as written (`YYYY-MM-DD HH:mm`); a DST gap or overlap is reported. */
function startInZone(
  p: RowProblems,
  day: LocalDate,
  time: LocalTime,
  zone: string,
): { start: Date; localStart: string } {
  const start = localToUtc(day, time, zone);
  const localStart = `${formatDate(day)} ${String(time.hour).padStart(2, '0')}:${String(time.minute).padStart(2, '0')}`;
  if (start.adjustment === 'gap') {
    p.warn(
      'StartTime',
      'DST_GAP',
      `${localStart} does not exist in ${zone} (clocks went forward); moved later by the gap to ${clinicTime(start.utc, zone)}`,
    );
  } else if (start.adjustment === 'overlap') {
    p.warn(
      'StartTime',
      'DST_OVERLAP',
      `${localStart} happened twice in ${zone} (clocks went back); the earlier one, ${clinicTime(start.utc, zone)}, is used`,
    );
  }
  return { start: start.utc, localStart };
}

/** The end in UTC from EndTime, else DurationMinutes; `undefined`: the type's duration applies. */
function appointmentEnd(
  p: RowProblems,
  v: Record<string, string>,
  day: LocalDate,
  start: Date,
  zone: string,
): string | undefined {
  if (v.EndTime) {
    const end = parseTime(v.EndTime);
    if (!end.ok) p.warn('EndTime', 'INVALID_TIME', `EndTime ${end.reason}; the duration is used instead`);
    else {
      const endUtc = localToUtc(day, end.value, zone).utc;
      if (endUtc.getTime() > start.getTime()) return toUtcString(endUtc);
      p.warn(
        'EndTime',
        'INVALID_TIME',
        `EndTime ${v.EndTime} is not after StartTime; the duration is used instead`,
      );
    }
  }
  if (!v.DurationMinutes) return undefined;
  const duration = parseWholeNumber(v.DurationMinutes, 1, 1440);
  if (duration.ok) return toUtcString(new Date(start.getTime() + duration.value * 60_000));
  p.warn(
    'DurationMinutes',
    'INVALID_DURATION',
    `DurationMinutes ${duration.reason}; the appointment type's duration is used`,
  );
  return undefined;
}
