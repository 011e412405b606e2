import type { SandboxSeed } from '../../apps/sandbox/seed.js';
import { answerText } from '../../src/mapping/treatment-notes.js';
import { BASE, csv, writeZip } from './exports.js';

/**
 * The clinic of the native-notes tests (issue 16): an admin whose user is not a practitioner, two
 * practitioners with their own keys (Hana, Tom) and a former practitioner without one (Wiremu);
 * notes N1 (Hana, on A1), N2 (Tom, on A2), N3 (Wiremu, no appointment).
 */
export const NATIVE_KEYS = {
  admin: 'NativeAdminKey0000000000000001-au1',
  hana: 'NativeHanaKey00000000000000001-au1',
  tom: 'NativeTomKey000000000000000001-au1',
} as const;

export const nativeSeed: SandboxSeed = {
  users: [{ first_name: 'Ops', last_name: 'Admin', is_practitioner: false, api_key: NATIVE_KEYS.admin }],
  businesses: [{ business_name: 'Auckland Central', time_zone_identifier: 'Pacific/Auckland' }],
  practitioners: [
    { first_name: 'Hana', last_name: 'Ruru', api_key: NATIVE_KEYS.hana },
    { first_name: 'Tom', last_name: 'Vea', api_key: NATIVE_KEYS.tom },
    { first_name: 'Wiremu', last_name: 'Former', active: false },
  ],
};

const Q = '"';
/** The export as a zip in a temp folder. */
export function nativeNotesExport(): Promise<string> {
  return writeZip({
    ...BASE,
    'Practitioners.csv': csv(
      'PractitionerId,FirstName,LastName,Inactive',
      'P1,Hana,Ruru,',
      'P2,Tom,Vea,',
      'P3,Wiremu,Former,Yes',
    ),
    'Clients.csv': csv('ClientId,FirstName,LastName', 'C1,Ann,Lee', 'C2,Bo,Chan'),
    'Appointments.csv': csv(
      'AppointmentId,ClientId,PractitionerId,StartDate,StartTime,AppointmentTypeId,LocationId,Status',
      'A1,C1,P1,01/03/2024,09:00,T1,L1,Completed',
      'A2,C2,P2,09/03/2024,10:00,T1,L1,Booked',
    ),
    'ClinicalNotes.csv': csv(
      'NoteId,ClientId,NoteDate,PractitionerId,AppointmentId,NoteType,AssessmentType,Subjective,Objective,Plan,Exercises',
      `N1,C1,01/03/2024,P1,A1,Initial Assessment,SOAP,${Q}Left knee pain, 3 weeks.\nWorse on stairs.${Q},ROM <90° & swelling,Ice and rest,`,
      'N2,C2,09/03/2024,P2,A2,Treatment,Rehab,Shoulder stiff,,,Band rows 3x10',
      'N3,C1,10/03/2024,P3,,Treatment,SOAP,Old note by a former practitioner,,See again,',
    ),
  });
}

/** A treatment note's sections as the text a reader sees, by section name. */
export const sectionsOf = (note: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(
    (note.content as { sections: { name: string; questions: { answer: string }[] }[] }).sections.map((s) => [
      s.name,
      answerText(s.questions[0]?.answer ?? ''),
    ]),
  );
