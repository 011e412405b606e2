import { describe, expect, it } from '@jest/globals';
import { probableDuplicate } from '../../src/batch/probable-duplicate.js';
import type { Patient } from '../../src/core/canonical.js';
import { type AccountPatientRef, DuplicateIndex } from '../../src/reconcile/duplicates.js';

/**
 * Issue 23: a PROBABLE_DUPLICATE said the e-mail matched when the Cliniko patient had none. The
 * message names only what was compared and agreed, for each Cliniko patient it names.
 */
const patient: Patient = {
  sourceId: 'C1',
  firstName: 'Aroha',
  lastName: 'Parata',
  dateOfBirth: '1964-10-23',
  email: 'aroha@example.com',
  phones: [{ type: 'Mobile', number: '021 781 300' }],
  address: {},
  alerts: [],
  inactive: false,
};
const inCliniko = (over: Partial<AccountPatientRef>): AccountPatientRef => ({
  id: '501',
  firstName: 'Aroha',
  lastName: 'Parata',
  dateOfBirth: '1964-10-23',
  phones: [],
  ...over,
});
const messageFor = (...account: AccountPatientRef[]) =>
  probableDuplicate(patient, 'report', new DuplicateIndex(account), false, 'Clients.csv', 2)?.problem.message;

describe('a probable duplicate says what matched', () => {
  it('names only name and date of birth when the Cliniko patient has no e-mail or phone', () => {
    const message = messageFor(inCliniko({}));
    expect(message).toContain('Cliniko patient 501 (entered in Cliniko; same name and date of birth)');
    expect(message).not.toContain('e-mail');
    expect(message).not.toContain('phone number');
  });

  it('names the e-mail and the phone when both sides hold them and they agree', () => {
    const message = messageFor(inCliniko({ email: 'Aroha@Example.com', phones: ['+6421781300'] }));
    expect(message).toContain('same name, date of birth, e-mail and phone number)');
  });

  it('says per Cliniko patient what each shares', () => {
    const message = messageFor(
      inCliniko({ id: '501', email: 'aroha@example.com' }),
      inCliniko({ id: '502', oldReferenceId: 'C9' }),
    );
    expect(message).toContain(
      'Cliniko patient 501 (entered in Cliniko; same name, date of birth and e-mail)',
    );
    expect(message).toContain(
      'Cliniko patient 502 (written under source id C9; same name and date of birth)',
    );
  });
});
