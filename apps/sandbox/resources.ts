import { ACCOUNT_RESOURCES } from './specs/account.js';
import { APPOINTMENT_RESOURCES } from './specs/appointments.js';
import { CLINIC_RECORD_RESOURCES } from './specs/clinic-records.js';
import { PATIENT_RESOURCES } from './specs/patients.js';
import { linkTo, type ResourceSpec } from './specs/spec.js';
import { TREATMENT_NOTE_RESOURCES } from './specs/treatment-notes.js';
import type { Rec, SandboxState, Table } from './state.js';

export { normalisePhones, phoneErrors } from './phones.js';
export type { ResourceSpec } from './specs/spec.js';

/** Each resource the sandbox serves (specs/*.ts, one file per family). */
export const RESOURCES: Record<string, ResourceSpec> = {
  ...PATIENT_RESOURCES,
  ...APPOINTMENT_RESOURCES,
  ...ACCOUNT_RESOURCES,
  ...TREATMENT_NOTE_RESOURCES,
  ...CLINIC_RECORD_RESOURCES,
};

/** Turns a stored record into what Cliniko answers: relations as link objects, `links.self`. */
export function present(spec: ResourceSpec, rec: Rec, base: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const relationFields = new Set(Object.values(spec.relations).map((r) => r.field));
  const hidden = new Set(spec.hidden ?? []);
  for (const [k, v] of Object.entries(rec)) {
    if (relationFields.has(k) || hidden.has(k)) continue;
    out[k] = v;
  }
  for (const [name, rel] of Object.entries(spec.relations)) {
    const target = rec[rel.field];
    // The schema types relations as objects, never null: an unset one is left out.
    if (target) out[name] = linkTo(base, `/${rel.path}/${target}`);
  }
  Object.assign(out, spec.extraLinks?.(rec, base));
  out.links = { self: `${base}/${spec.path}/${rec.id}` };
  return out;
}

/** Rules that need other records: referenced ids must exist. */
export function checkReferences(
  state: SandboxState,
  values: Record<string, unknown>,
  refs: Record<string, Table>,
): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const [field, table] of Object.entries(refs)) {
    const v = values[field];
    if (v == null) continue;
    const target = state.get(table, String(v));
    if (!target || target.archived_at) errors[field.replace(/_id$/, '')] = 'must exist';
  }
  return errors;
}
