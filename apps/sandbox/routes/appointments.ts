import type { FastifyInstance } from 'fastify';
import { type SandboxContext, validationFailed } from '../context.js';

const CANCELLATION_REASONS: Record<number, string> = {
  10: 'Feeling Better',
  20: 'Condition Worse',
  30: 'Sick',
  31: 'COVID-19 related',
  40: 'Away',
  50: 'Other',
  60: 'Work',
};

/**
 * What individual appointments have beyond the generic resource (Cliniko's API documentation on
 * individual appointments): cancelling with one of Cliniko's reason codes, and the conflicts check.
 */
export function appointmentRoutes(api: FastifyInstance, ctx: SandboxContext): void {
  const { state } = ctx;
  // appointments: cancel with a reason code, conflicts
  api.patch<{ Params: { id: string }; Body: Record<string, unknown> }>(
    '/individual_appointments/:id/cancel',
    async (req, reply) => {
      const appt = state.get('individual_appointments', req.params.id);
      if (!appt) return reply.code(404).send({ message: 'Not found' });
      const reason = Number(req.body?.cancellation_reason);
      if (req.body?.cancellation_reason == null || !CANCELLATION_REASONS[reason]) {
        return validationFailed(reply, {
          cancellation_reason:
            req.body?.cancellation_reason == null ? "can't be blank" : 'is not included in the list',
        });
      }
      const note = req.body?.cancellation_note;
      const cancelled = {
        cancelled_at: appt.cancelled_at ?? state.now(),
        cancellation_reason: reason,
        cancellation_reason_description: CANCELLATION_REASONS[reason],
        cancellation_note: typeof note === 'string' ? note : null,
      };
      state.update('individual_appointments', appt.id, cancelled);
      for (const a of state.all('attendees'))
        if (a.booking_id === appt.id) state.update('attendees', a.id, cancelled);
      return ctx.commit(req, reply, 204);
    },
  );
  api.get<{ Params: { id: string } }>('/individual_appointments/:id/conflicts', async (req, reply) => {
    const appt = state.get('individual_appointments', req.params.id);
    if (!appt) return reply.code(404).send({ message: 'Not found' });
    const exist = state
      .all('individual_appointments')
      .some(
        (o) =>
          o.id !== appt.id &&
          !o.cancelled_at &&
          !o.archived_at &&
          o.practitioner_id === appt.practitioner_id &&
          String(o.starts_at) < String(appt.ends_at) &&
          String(appt.starts_at) < String(o.ends_at),
      );
    return { conflicts: { exist } };
  });
}
