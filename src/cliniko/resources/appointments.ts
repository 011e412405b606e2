import { type CreateOnceResult, filters, type HttpBase, refound } from '../http.js';
import * as S from '../schemas.js';

/**
 * Individual appointments and their attendee (Cliniko's API documentation on individual
 * appointments and attendees): created once (re-found by patient, practitioner and start),
 * cancelled, and marked arrived or did-not-arrive.
 */
export function withAppointments<Base extends HttpBase>(Base: Base) {
  return class Appointments extends Base {
    listIndividualAppointments(q?: readonly string[]): Promise<S.IndividualAppointment[]> {
      return this.listAll('/individual_appointments', 'individual_appointments', S.IndividualAppointment, q);
    }

    createIndividualAppointment(body: S.IndividualAppointmentBody): Promise<S.IndividualAppointment> {
      return this.call('POST', '/individual_appointments', {
        schema: S.IndividualAppointment,
        body,
        idempotent: false,
      });
    }

    getIndividualAppointment(id: S.ClinikoId): Promise<S.IndividualAppointment> {
      return this.call('GET', `/individual_appointments/${id}`, { schema: S.IndividualAppointment });
    }

    updateIndividualAppointment(
      id: S.ClinikoId,
      body: S.IndividualAppointmentBody,
    ): Promise<S.IndividualAppointment> {
      return this.call('PATCH', `/individual_appointments/${id}`, { schema: S.IndividualAppointment, body });
    }

    /** Cancels with one of Cliniko's reason codes (10, 20, 30, 31, 40, 50, 60). */
    async cancelIndividualAppointment(
      id: S.ClinikoId,
      body: S.IndividualAppointmentCancelBody,
    ): Promise<void> {
      await this.call('PATCH', `/individual_appointments/${id}/cancel`, { schema: undefined, body });
    }

    /** Appointments have no reference field: patient, practitioner and start time identify one. */
    async findIndividualAppointment(key: {
      patient_id: string;
      practitioner_id: string;
      starts_at: string;
    }): Promise<S.IndividualAppointment | undefined> {
      const q = filters({
        patient_id: `=${key.patient_id}`,
        practitioner_id: `=${key.practitioner_id}`,
        starts_at: undefined,
        cancelled_at: '*',
        archived_at: '*',
      });
      q.push(`starts_at:>=${key.starts_at}`, `starts_at:<=${key.starts_at}`);
      const wanted = Date.parse(key.starts_at);
      return refound(
        (await this.listIndividualAppointments(q)).filter((a) => Date.parse(a.starts_at) === wanted),
      );
    }

    createIndividualAppointmentOnce(
      body: S.IndividualAppointmentBody & { patient_id: string; practitioner_id: string; starts_at: string },
    ): Promise<CreateOnceResult<S.IndividualAppointment>> {
      return this.createOnce(
        () => this.createIndividualAppointment(body),
        () => this.findIndividualAppointment(body),
      );
    }

    listAttendees(bookingId: S.ClinikoId): Promise<S.Attendee[]> {
      return this.listAll(
        '/attendees',
        'attendees',
        S.Attendee,
        filters({ booking_id: `=${bookingId}`, cancelled_at: '*' }),
      );
    }

    updateAttendee(id: S.ClinikoId, body: S.AttendeeUpdateBody): Promise<S.Attendee> {
      return this.call('PATCH', `/attendees/${id}`, { schema: S.Attendee, body });
    }

    /** Marks arrival (`true`) or did-not-arrive (`false`) through the appointment's one attendee. */
    async setArrival(appointmentId: S.ClinikoId, arrived: boolean): Promise<S.Attendee> {
      const [attendee] = await this.listAttendees(appointmentId);
      if (!attendee) {
        throw new Error(`Cliniko appointment ${appointmentId} has no attendee to mark arrival on`);
      }
      return this.updateAttendee(attendee.id, { arrived });
    }
  };
}
