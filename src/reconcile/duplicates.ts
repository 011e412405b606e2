import { z } from 'zod';
import type { Patient } from '../core/canonical.js';

/** A patient of the Cliniko account, as reconciliation saved it for this check. */
/** The account's patients as reconciliation leaves them in the bucket for the mappers. */
export const AccountPatientRefs = z.array(
  z.object({
    id: z.string(),
    oldReferenceId: z.string().optional(),
    firstName: z.string(),
    lastName: z.string(),
    dateOfBirth: z.string().optional(),
    email: z.string().optional(),
    phones: z.array(z.string()).readonly(),
  }),
);

export interface AccountPatientRef {
  readonly id: string;
  readonly oldReferenceId?: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly dateOfBirth?: string;
  readonly email?: string;
  /** Digits only. */
  readonly phones: readonly string[];
}

const fold = (s: string | undefined) =>
  (s ?? '')
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');
const lastDigits = (p: string) => p.replace(/\D/g, '').slice(-8);

/**
 * Finds Cliniko patients an export patient probably duplicates (issue 11; docs/CONFIGURATION.md
 * `existingPatients`): same first and last name (case, accents and punctuation aside) and date of
 * birth, and the same e-mail where both have one and a shared phone number (last 8 digits) where
 * both have one. A patient already written under this very source id is the patient's own match,
 * never a duplicate. Without a date of birth on either side nothing is matched: a name alone is
 * too weak to hold a patient back.
 */
export class DuplicateIndex {
  private readonly byKey = new Map<string, AccountPatientRef[]>();
  private readonly references = new Set<string>();

  constructor(patients: readonly AccountPatientRef[]) {
    for (const p of patients) {
      if (p.oldReferenceId) this.references.add(p.oldReferenceId);
      if (!p.dateOfBirth) continue;
      const key = `${fold(p.firstName)}|${fold(p.lastName)}|${p.dateOfBirth}`;
      const list = this.byKey.get(key) ?? [];
      list.push(p);
      this.byKey.set(key, list);
    }
  }

  candidates(
    patient: Pick<Patient, 'sourceId' | 'firstName' | 'lastName' | 'dateOfBirth' | 'email' | 'phones'>,
  ) {
    if (!patient.dateOfBirth) return [];
    const key = `${fold(patient.firstName)}|${fold(patient.lastName)}|${patient.dateOfBirth}`;
    const phones = patient.phones.map((p) => lastDigits(p.number)).filter((p) => p.length >= 6);
    return (this.byKey.get(key) ?? []).filter((c) => {
      if (c.oldReferenceId === patient.sourceId) return false;
      if (patient.email && c.email && patient.email.trim().toLowerCase() !== c.email.trim().toLowerCase())
        return false;
      const theirs = c.phones.map(lastDigits).filter((p) => p.length >= 6);
      if (phones.length && theirs.length && !phones.some((p) => theirs.includes(p))) return false;
      return true;
    });
  }

  /**
   * What an export patient and one of its `candidates` share, as a message says it: name and date
   * of birth always; the e-mail and a phone number only where both hold one and they agree (a
   * Cliniko patient without an e-mail matched on name and birth date alone, and says so).
   */
  static matchedOn(
    patient: Pick<Patient, 'email' | 'phones'>,
    candidate: Pick<AccountPatientRef, 'email' | 'phones'>,
  ): string {
    const shared = ['name', 'date of birth'];
    if (patient.email && candidate.email) shared.push('e-mail');
    const theirs = candidate.phones.map(lastDigits).filter((p) => p.length >= 6);
    if (patient.phones.some((p) => theirs.includes(lastDigits(p.number)))) shared.push('phone number');
    return `${shared.slice(0, -1).join(', ')} and ${shared.at(-1)}`;
  }

  /** Whether the account holds a patient written under this source id (the patient's own match). */
  hasReference(sourceId: string): boolean {
    return this.references.has(sourceId);
  }
}
