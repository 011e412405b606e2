import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiBase, type SandboxContext, validationFailed } from '../context.js';
import { present, RESOURCES, type ResourceSpec } from '../resources.js';
import type { Table } from '../state.js';
import { validate } from '../validation.js';

/**
 * What hangs under a patient (Cliniko's API documentation on patients and contacts): the nested
 * lists Cliniko still serves, an appointment's attendees, and the patient's one referral source
 * (set with PATCH or PUT).
 */
export function patientRoutes(api: FastifyInstance, ctx: SandboxContext): void {
  const { state } = ctx;
  // nested lists that Cliniko still serves
  const patientChild = (path: string, spec: ResourceSpec, field = 'patient_id') =>
    api.get<{ Params: { id: string } }>(`/patients/:id/${path}`, (req, reply) => {
      if (!state.get('patients', req.params.id)) return reply.code(404).send({ message: 'Not found' });
      return ctx.list(
        req,
        reply,
        spec,
        state.all(spec.table).filter((r) => r[field] === req.params.id),
      );
    });
  patientChild('medical_alerts', RESOURCES.medical_alerts as ResourceSpec);
  patientChild('patient_attachments', RESOURCES.patient_attachments as ResourceSpec);
  patientChild('treatment_notes', RESOURCES.treatment_notes as ResourceSpec);
  api.get<{ Params: { id: string } }>('/individual_appointments/:id/attendees', (req, reply) =>
    ctx.list(
      req,
      reply,
      RESOURCES.attendees as ResourceSpec,
      state.all('attendees').filter((a) => a.booking_id === req.params.id),
    ),
  );

  // referral source: one per patient, set with PATCH (which creates it when absent)
  const referralSpec = RESOURCES.referral_sources as ResourceSpec;
  api.get<{ Params: { id: string } }>('/patients/:id/referral_source', async (req, reply) => {
    const rec = state.all('referral_sources').find((r) => r.patient_id === req.params.id);
    if (!state.get('patients', req.params.id) || !rec) return reply.code(404).send({ message: 'Not found' });
    return present(referralSpec, rec, apiBase(req));
  });
  const setReferral = async (
    req: FastifyRequest<{ Params: { id: string }; Body: Record<string, unknown> }>,
    reply: FastifyReply,
  ) => {
    if (!state.get('patients', req.params.id)) return reply.code(404).send({ message: 'Not found' });
    const { values, errors } = validate(req.body ?? {}, referralSpec.rules, 'create');
    const type = values.referral_source_type_id
      ? state.get('referral_source_types', String(values.referral_source_type_id))
      : undefined;
    if (values.referral_source_type_id && !type) errors.referral_source_type = 'must exist';
    let referrerPath: string | undefined;
    if (type?.referrer_type === 'Patient' || type?.referrer_type === 'Contact') {
      const table: Table = type.referrer_type === 'Patient' ? 'patients' : 'contacts';
      referrerPath = table;
      if (!values.referrer_id) errors.referrer = "can't be blank";
      else if (!state.get(table, String(values.referrer_id))) errors.referrer = 'must exist';
    }
    const subs = type?.subcategories as string[] | null | undefined;
    if (subs?.length && values.subcategory != null && !subs.includes(String(values.subcategory)))
      errors.subcategory = 'is not included in the list';
    if (Object.keys(errors).length) return validationFailed(reply, errors);
    const existing = state.all('referral_sources').find((r) => r.patient_id === req.params.id);
    const data = {
      ...values,
      referrer_path: referrerPath ?? null,
      patient_id: req.params.id,
      archived_at: null,
    };
    const rec = existing
      ? state.update('referral_sources', existing.id, data)
      : state.insert('referral_sources', data);
    return ctx.commit(req, reply, 200, present(referralSpec, rec, apiBase(req)));
  };
  api.patch('/patients/:id/referral_source', setReferral);
  api.put('/patients/:id/referral_source', setReferral);
}
