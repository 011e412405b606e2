import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SandboxSeed } from '../../apps/sandbox/seed.js';
import { CASES_DIR } from './cases.js';
import { csv, type ExportFiles, writeZip } from './exports.js';

/**
 * An export with each kind of damage of issue 25 injected into several columns and tables, zipped
 * as a Mac's Finder and Windows leave it (`__MACOSX/`, `._*`, `.DS_Store`, `Thumbs.db`,
 * `desktop.ini` beside the export's folder): invisible characters in names, keys, e-mails, phones
 * and note sections; cells holding several values, extensions and remarks; columns named twice
 * (aliases too) in clients, uploads and clinical notes; document paths that differ only in case.
 * `named` is every damaged cell the report must name (`file:row:field:code`), `stored` what each
 * record must hold in Cliniko.
 */
const ZWSP = '\u200B';
const NBSP = '\u00A0';

export const DAMAGED_FILES: ExportFiles = {
  'Locations.csv': csv('LocationId,Name,TimeZone', 'L1,Auckland Central,Pacific/Auckland'),
  'Practitioners.csv': csv('PractitionerId,FirstName,LastName', 'P1,Hana,Ruru'),
  'AppointmentTypes.csv': csv('AppointmentTypeId,Name,DurationMinutes', 'T1,Follow-up,30'),
  'manifest.json': JSON.stringify({
    system: 'Gensolve Practice Manager',
    exportedAt: '2026-11-20T09:00:00+13:00',
    timeZone: 'Pacific/Auckland',
  }),
  'Clients.csv': csv(
    'ClientId,FirstName,LastName,DateOfBirth,Email,MobilePhone,HomePhone,WorkPhone,Occupation,E-mail,Occupation',
    `C1,Aroha,Parata,23/10/1964 or 24/10/1964,aroha@example.com${ZWSP},021${NBSP}781${NBSP}300,09 379 4321 x 12,,Teacher,,`,
    `C2,Ta\u00ADma,Walker\u200F,16/07/1978,tama@example.com; tama.w@example.org,027 555 1234 or 021 555 9876,,04 555 1000 (reception),Nurse,tama@example.com,Midwife`,
    `C3${ZWSP},Mere,Tane,02/02/1990,Mere Tane <mere@example.com>,+64 21 781 302,,,,,`,
  ),
  'Referrers.csv': csv(
    'ReferrerId,LastName,FirstName,ReferrerType,Email,Phone,Fax',
    'R1,Smith,John,GP,drsmith@example.com\u2060,09 555 0000 / 09 555 0001,09 555 0002 ext 9',
  ),
  'Appointments.csv': csv(
    'AppointmentId,ClientId,PractitionerId,StartDate,StartTime,EndTime,LocationId,AppointmentTypeId,Status,Notes',
    `A1,\u2060C3,P1,17/03/2025,10:00,10:30,L1,T1,Completed,Knee re\u00ADview`,
  ),
  'ClinicalNotes.csv': csv(
    'NoteId,ClientId,NoteDate,PractitionerId,Subjective,Objective,Subjective',
    `N1,C1,17/03/2025,P1,Sore knee${ZWSP},ROM reduced,`,
    'N2,C2,18/03/2025,P1,,Guarded,Shoulder pain',
  ),
  'Uploads.csv': csv(
    'UploadId,ClientId,FilePath,UploadDate,Description,Description',
    'U1,C1,Uploads/Scan.pdf,16/06/2024,Knee scan,',
    'U2,C2,Uploads/scan.pdf,17/06/2024,Shoulder scan,Shoulder x-ray',
    'U3,C3,uploads/SCAN.PDF,18/06/2024,Which scan?,',
  ),
  'Letters.csv': csv(
    'LetterId,ClientId,LetterDate,FilePath,Subject',
    'L1,C1,01/02/2024,Letters/Referral.pdf,Referral',
    'L2,C2,02/02/2024,Letters/REFERRAL.pdf,Referral?',
    'L3,C3,03/02/2024,letters/discharge.PDF,Discharge',
  ),
  'Uploads/Scan.pdf': '%PDF-1.4\n%knee-of-C1\n%%EOF\n',
  'Uploads/scan.pdf': '%PDF-1.4\n%shoulder-of-C2\n%%EOF\n',
  'Letters/Referral.pdf': '%PDF-1.4\n%referral-of-C1\n%%EOF\n',
  'Letters/referral.PDF': '%PDF-1.4\n%another-referral\n%%EOF\n',
  'Letters/Discharge.pdf': '%PDF-1.4\n%discharge-of-C3\n%%EOF\n',
};

/** What the operating systems added when the export was zipped again. */
const JUNK: ExportFiles = {
  '__MACOSX/GensolveExport/._Clients.csv': 'resource fork',
  '__MACOSX/GensolveExport/Uploads/._Scan.pdf': 'resource fork',
  'GensolveExport/.DS_Store': Buffer.from([0, 0, 0, 1, 0x42, 0x75, 0x64, 0x31]),
  'GensolveExport/Uploads/Thumbs.db': 'thumbnails',
  'GensolveExport/Letters/desktop.ini': '[.ShellClassInfo]',
};
export const JUNK_FILES = Object.keys(JUNK).length;

export async function writeDamagedZip(): Promise<string> {
  return writeZip({
    ...Object.fromEntries(Object.entries(DAMAGED_FILES).map(([k, v]) => [`GensolveExport/${k}`, v])),
    ...JUNK,
  });
}

/** The Cliniko account the cases use (one practitioner with a key, one business in Auckland). */
export const damagedSeed = (): SandboxSeed =>
  JSON.parse(readFileSync(join(CASES_DIR, '30-phone-two-numbers-extension', 'seed.json'), 'utf8'));

/** Every damaged cell, as `file:row:field:code` (header damage on row 1). */
export const NAMED = [
  'Clients.csv:1:Email:DUPLICATE_COLUMN',
  'Clients.csv:1:Occupation:DUPLICATE_COLUMN',
  'Clients.csv:2:DateOfBirth:SEVERAL_VALUES',
  'Clients.csv:2:Email:INVISIBLE_CHARACTER',
  'Clients.csv:2:MobilePhone:SPACE_NORMALISED',
  'Clients.csv:2:HomePhone:PHONE_EXTENSION',
  'Clients.csv:3:FirstName:INVISIBLE_CHARACTER',
  'Clients.csv:3:LastName:INVISIBLE_CHARACTER',
  'Clients.csv:3:Email:DUPLICATE_COLUMN_CONFLICT',
  'Clients.csv:3:Email:SEVERAL_VALUES',
  'Clients.csv:3:Occupation:DUPLICATE_COLUMN_CONFLICT',
  'Clients.csv:3:MobilePhone:SEVERAL_VALUES',
  'Clients.csv:3:WorkPhone:EXTRA_TEXT',
  'Clients.csv:4:ClientId:INVISIBLE_CHARACTER',
  'Clients.csv:4:Email:EXTRA_TEXT',
  'Referrers.csv:2:Email:INVISIBLE_CHARACTER',
  'Referrers.csv:2:Phone:SEVERAL_VALUES',
  'Referrers.csv:2:Fax:PHONE_EXTENSION',
  'Appointments.csv:2:ClientId:INVISIBLE_CHARACTER',
  'Appointments.csv:2:Notes:INVISIBLE_CHARACTER',
  'ClinicalNotes.csv:1:Subjective:DUPLICATE_COLUMN',
  'ClinicalNotes.csv:2:Subjective:INVISIBLE_CHARACTER',
  'Uploads.csv:1:Description:DUPLICATE_COLUMN',
  'Uploads.csv:3:Description:DUPLICATE_COLUMN_CONFLICT',
  'Uploads.csv:4:FilePath:FILE_AMBIGUOUS',
  'Letters.csv:3:FilePath:FILE_AMBIGUOUS',
] as const;
