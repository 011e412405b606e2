import { createHash } from 'node:crypto';
import type { MigrationConfig } from '../config/migration-config.js';
import type { Appointment } from '../core/canonical.js';
import { arrivalToMark, recentSince } from '../mapping/arrivals.js';
import { attachmentDescription } from '../mapping/attachment-description.js';
import { MIGRATED_TYPE_NAME, mapAppointment } from '../mapping/cliniko-bodies.js';
import type { WritePayload } from '../ports/command-queue.js';
import type { LocationRef, PractitionerRef } from '../translate/builders.js';
import type { MappedBody, PlannedRecord } from './row-processing.js';

/** The id map's source id of the "Migrated appointment" type (it has no source row). */
export const MIGRATED_TYPE_ID = '__migrated__';

/** Contacts of different kinds may share a source id (E1 and R1 could both be "1"). */
export const contactKey = (kind: string, id: string) => `${kind}:${id}`;

/** A record's content hash (32 hex characters): a later export with other content updates it. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 32);
}

/** What a batch needs to know of the run to build payloads (RunInfo has it; the scan builds it). */
export interface PayloadRun {
  readonly config: MigrationConfig;
  readonly practitioners: Readonly<Record<string, PractitionerRef>>;
  readonly locations: Readonly<Record<string, LocationRef>>;
  readonly defaultBusinessId?: string;
  /** The export's date (manifest `exportedAt`, else when the run started; ISO 8601): recent arrivals. */
  readonly exportedAt: string;
}

/** Cliniko ids of records written in earlier phases, by source id (the clinic's id map). */
export interface WrittenIds {
  patient(sourceId: string): string | undefined;
  referrer(sourceId: string): string | undefined;
  /** `MIGRATED_TYPE_ID` for the "Migrated appointment" type. */
  appointmentType(sourceId: string): string | undefined;
  /** Whether a referrer is a doctor (Cliniko contact type 1). */
  isDoctor(referrerSourceId: string): boolean;
}

/** A payload that cannot be built: a parent was not written (the row fails with PARENT_NOT_WRITTEN). */
export interface MissingParent {
  readonly missing: string;
  /** The source column of the reference. */
  readonly field: string;
}

/** A clinical note waits for the batch's end: it is bundled into a PDF or written natively. */
export interface NotePayload {
  readonly kind: 'note';
  readonly patientId: string;
}

/** The attendee's `arrived` to set, as `markArrivals` says (did-not-arrive is always kept). */
function arrival(mapped: boolean | undefined, a: Appointment, run: PayloadRun): { arrived?: boolean } {
  if (mapped === undefined) return {};
  const mark = arrivalToMark(a, run.config.markArrivals, recentSince(run.exportedAt));
  return mark === undefined ? {} : { arrived: mark };
}

const notWritten = (client: string): MissingParent => ({
  missing: `client ${client} was not written to Cliniko`,
  field: 'ClientId',
});

/**
 * A planned record → what a writer is asked to do, with the Cliniko ids of its parents
 * (contract/cliniko-openapi.yaml `requestBodies`). Patients, contacts and types use the body the
 * row was mapped to (`mapped`), never mapped again; appointments are mapped here, once their ids
 * are known.
 */
export function payloadFor(
  planned: PlannedRecord,
  mapped: MappedBody | undefined,
  run: PayloadRun,
  ids: WrittenIds,
): WritePayload | NotePayload | MissingParent {
  switch (planned.entity) {
    case 'appointmentTypes':
      return mapped?.entity === 'appointmentTypes'
        ? { kind: 'appointmentType', body: mapped.body }
        : { missing: 'appointment type could not be mapped', field: 'Name' };
    case 'contacts':
      return mapped?.entity === 'contacts'
        ? { kind: 'contact', body: mapped.body }
        : { missing: 'contact could not be mapped', field: '' };
    case 'patients': {
      if (mapped?.entity !== 'patients') return { missing: 'patient could not be mapped', field: '' };
      const referrer = planned.record.referrerSourceId;
      const referrerId = referrer ? ids.referrer(referrer) : undefined;
      return {
        kind: 'patient',
        body: mapped.body.body,
        alerts: mapped.body.alerts,
        ...(referrerId ? { referral: { contactId: referrerId } } : {}),
      };
    }
    case 'appointments': {
      const a = planned.record;
      const patientId = ids.patient(a.patientSourceId);
      if (!patientId) return notWritten(a.patientSourceId);
      const practitionerId = run.practitioners[a.practitionerSourceId]?.clinikoId;
      if (!practitionerId)
        return {
          missing: `practitioner ${a.practitionerSourceId} has no Cliniko practitioner`,
          field: 'PractitionerId',
        };
      const businessId =
        (a.locationSourceId ? run.locations[a.locationSourceId]?.businessId : undefined) ??
        run.defaultBusinessId;
      if (!businessId) return { missing: 'no Cliniko business for this appointment', field: 'LocationId' };
      const typeId = ids.appointmentType(a.appointmentTypeSourceId ?? MIGRATED_TYPE_ID);
      if (!typeId)
        return {
          missing: `appointment type ${a.appointmentTypeSourceId ?? MIGRATED_TYPE_NAME} was not written to Cliniko`,
          field: 'AppointmentTypeId',
        };
      const { body } = mapAppointment(a, {
        patientId,
        practitionerId,
        businessId,
        appointmentTypeId: typeId,
      });
      if (!body) return { missing: 'appointment could not be mapped', field: '' };
      return {
        kind: 'appointment',
        body: body.body,
        patientSourceId: a.patientSourceId,
        ...(body.cancel ? { cancel: body.cancel } : {}),
        ...arrival(body.arrived, a, run),
      };
    }
    case 'letters':
    case 'fileUploads': {
      const d = planned.record;
      const patientId = ids.patient(d.patientSourceId);
      if (!patientId) return notWritten(d.patientSourceId);
      return {
        kind: 'attachment',
        patientId,
        path: d.path,
        size: d.size,
        filename: d.path.split('/').pop() ?? d.path,
        contentType: d.contentType,
        description: attachmentDescription(d),
      };
    }
    case 'clinicalNotes': {
      const patientId = ids.patient(planned.record.patientSourceId);
      return patientId ? { kind: 'note', patientId } : notWritten(planned.record.patientSourceId);
    }
  }
}
