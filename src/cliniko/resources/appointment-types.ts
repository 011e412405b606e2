import { type CreateOnceResult, type HttpBase, refound } from '../http.js';
import * as S from '../schemas.js';

/**
 * Appointment types (Cliniko's API documentation on appointment types): listed, and created once
 * (matched by name).
 */
export function withAppointmentTypes<Base extends HttpBase>(Base: Base) {
  return class AppointmentTypes extends Base {
    listAppointmentTypes(options: { includeArchived?: boolean } = {}): Promise<S.AppointmentType[]> {
      return this.listAll(
        '/appointment_types',
        'appointment_types',
        S.AppointmentType,
        options.includeArchived ? ['archived_at:*'] : undefined,
      );
    }

    createAppointmentType(body: S.AppointmentTypeBody): Promise<S.AppointmentType> {
      return this.call('POST', '/appointment_types', { schema: S.AppointmentType, body, idempotent: false });
    }

    /** Names are not filterable, so the (short) list of types is read and matched by name. */
    createAppointmentTypeOnce(
      body: S.AppointmentTypeBody & { name: string },
    ): Promise<CreateOnceResult<S.AppointmentType>> {
      return this.createOnce(
        () => this.createAppointmentType(body),
        async () =>
          refound(
            (await this.listAppointmentTypes({ includeArchived: true })).filter((t) => t.name === body.name),
          ),
      );
    }
  };
}
