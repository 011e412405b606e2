import { type CreateOnceResult, filters, type HttpBase, refound } from '../http.js';
import * as S from '../schemas.js';

/**
 * Patients, their referral source and medical alerts (Cliniko's API documentation on patients,
 * referral sources and medical alerts); a patient is created once, keyed by `old_reference_id`.
 */
export function withPatients<Base extends HttpBase>(Base: Base) {
  return class Patients extends Base {
    listPatients(q?: readonly string[]): Promise<S.Patient[]> {
      return this.listAll('/patients', 'patients', S.Patient, q);
    }

    getPatient(id: S.ClinikoId): Promise<S.Patient> {
      return this.call('GET', `/patients/${id}`, { schema: S.Patient, query: { 'q[]': ['archived_at:*'] } });
    }

    createPatient(body: S.PatientBody): Promise<S.Patient> {
      return this.call('POST', '/patients', { schema: S.Patient, body, idempotent: false });
    }

    updatePatient(id: S.ClinikoId, body: S.PatientBody): Promise<S.Patient> {
      return this.call('PATCH', `/patients/${id}`, { schema: S.Patient, body });
    }

    /** Gives a patient entered in Cliniko the source id it is adopted under (a PATCH of that field alone). */
    async setPatientReference(id: S.ClinikoId, oldReferenceId: string): Promise<S.Patient> {
      return this.call('PATCH', `/patients/${id}`, {
        schema: S.Patient,
        body: { old_reference_id: oldReferenceId },
      });
    }

    async findPatientByReference(oldReferenceId: string): Promise<S.Patient | undefined> {
      const found = await this.listPatients(
        filters({ old_reference_id: `=${oldReferenceId}`, archived_at: '*' }),
      );
      return refound(found.filter((p) => p.old_reference_id === oldReferenceId));
    }

    /** Creates a patient exactly once, keyed by `old_reference_id`. */
    createPatientOnce(
      body: S.PatientBody & { old_reference_id: string },
    ): Promise<CreateOnceResult<S.Patient>> {
      return this.createOnce(
        () => this.createPatient(body),
        () => this.findPatientByReference(body.old_reference_id),
      );
    }

    getReferralSource(patientId: S.ClinikoId): Promise<S.ReferralSource> {
      return this.call('GET', `/patients/${patientId}/referral_source`, { schema: S.ReferralSource });
    }

    setReferralSource(patientId: S.ClinikoId, body: S.ReferralSourceBody): Promise<S.ReferralSource> {
      return this.call('PATCH', `/patients/${patientId}/referral_source`, { schema: S.ReferralSource, body });
    }

    // medical alerts (Cliniko's API documentation on medical alerts)

    listMedicalAlerts(patientId: S.ClinikoId): Promise<S.MedicalAlert[]> {
      return this.listAll(
        '/medical_alerts',
        'medical_alerts',
        S.MedicalAlert,
        filters({ patient_id: `=${patientId}` }),
      );
    }

    createMedicalAlert(body: S.MedicalAlertBody): Promise<S.MedicalAlert> {
      return this.call('POST', '/medical_alerts', { schema: S.MedicalAlert, body, idempotent: false });
    }

    createMedicalAlertOnce(
      body: S.MedicalAlertBody & { patient_id: string; name: string },
    ): Promise<CreateOnceResult<S.MedicalAlert>> {
      return this.createOnce(
        () => this.createMedicalAlert(body),
        async () => (await this.listMedicalAlerts(body.patient_id)).find((a) => a.name === body.name),
      );
    }
  };
}
