import type { MigrationConfig } from '../config/migration-config.js';
import type { Patient } from '../core/canonical.js';
import { DateOrderEvidence, type LocalDate } from '../core/values.js';
import type { ExportArchive } from '../source/archive.js';
import { readTable } from '../source/csv.js';
import type { SourceProfile } from '../source/profile.js';
import { findTable } from '../source/split-table.js';
import { buildPatient } from './patients.js';
import type { References } from './row-context.js';

/** Who a client is, as the clinic reads it: the name as Cliniko shows it, and the ISO birth date. */
export interface ClientName {
  readonly name: string;
  /** yyyy-mm-dd, absent when the export has none (or an implausible one, left out as the builder leaves it out). */
  readonly dateOfBirth?: string;
}

/**
 * A patient's name as Cliniko shows it (title, first name with the preferred one in brackets,
 * middle, last) and birth date: a notes PDF's cover and page headers, and the report's names.
 */
export function patientLabel(
  p: Pick<Patient, 'title' | 'firstName' | 'preferredName' | 'middleName' | 'lastName' | 'dateOfBirth'>,
): ClientName {
  const first =
    p.preferredName && p.preferredName !== p.firstName ? `${p.firstName} (${p.preferredName})` : p.firstName;
  return {
    name: [p.title, first, p.middleName, p.lastName].filter(Boolean).join(' '),
    ...(p.dateOfBirth ? { dateOfBirth: p.dateOfBirth } : {}),
  };
}

/** `Jane Citizen (C9)`, or just the id when the export gave no name. */
export function namedClient(sourceId: string, name: ClientName | undefined): string {
  return name?.name ? `${name.name} (${sourceId})` : sourceId;
}

/** What reading the clients table needs of the run: its settings, zone and the export's date. */
export interface ClientNameContext {
  readonly config: MigrationConfig;
  /** IANA zone of rows without a location (no client row has one; the builder's context needs it). */
  readonly defaultTimeZone: string;
  /** The export's date, so a birth date is kept or left out exactly as the patient's builder did. */
  readonly exportDate?: LocalDate;
}

/**
 * The names of the given client ids, read from the export's clients table when they are needed
 * (issue 23: the status table and state files hold ids and hashes only; issue 26: the report names
 * clients). Streams the table once, in the export's order, and keeps only the ids asked for: memory
 * grows with `ids`, not with the export. Each name is built by the patient builder (`buildPatient`,
 * then `patientLabel`), so it reads as the patient Cliniko holds; the first row of a repeated id
 * wins, as when the export is planned. Stops reading once every id is found.
 *
 * Returns id → name; an id the export does not hold, or whose row has no name at all, is left out.
 * A row that builds no patient (invalid) is named from its name columns, without a birth date. Throws `CsvError` or `ArchiveError` when the table
 * cannot be read; an export without a clients table gives an empty map.
 */
export async function clientNames(
  archive: ExportArchive,
  profile: SourceProfile,
  ids: Iterable<string>,
  context: ClientNameContext,
): Promise<Map<string, ClientName>> {
  const wanted = new Set([...ids].filter(Boolean));
  const names = new Map<string, ClientName>();
  const spec = profile.tables.find((t) => t.name === 'clients');
  const file = spec ? findTable(archive, spec) : undefined;
  if (!spec || !file || !wanted.size) return names;
  const refs: References = {
    patient: () => undefined,
    // A contact the row names only decides a warning, never the name.
    contact: () => true,
    location: () => undefined,
    practitioner: () => undefined,
    appointmentType: () => false,
    defaultTimeZone: context.defaultTimeZone,
    document: () => ({ kind: 'missing' }),
  };
  const ctx = {
    file,
    entity: 'patients',
    profile,
    config: context.config,
    refs,
    evidence: new DateOrderEvidence(),
    ...(context.exportDate ? { exportDate: context.exportDate } : {}),
  };
  const seen = new Set<string>();
  for await (const row of readTable(archive, file, spec, () => undefined)) {
    const id = row.values.ClientId ?? '';
    if (!wanted.has(id) || seen.has(id)) continue;
    seen.add(id);
    const record = buildPatient(row, ctx).record;
    if (record) names.set(id, patientLabel(record));
    else {
      // An invalid client is the one the clinic must find: named from its name columns as read
      // (cleaned by the reader), without a birth date, since no patient was built to vouch for it.
      const v = row.values;
      const name = patientLabel({
        firstName: v.FirstName ?? '',
        lastName: v.LastName ?? '',
        ...(v.Title ? { title: v.Title } : {}),
        ...(v.PreferredName ? { preferredName: v.PreferredName } : {}),
        ...(v.MiddleName ? { middleName: v.MiddleName } : {}),
      }).name;
      if (name) names.set(id, { name });
    }
    if (seen.size === wanted.size) break;
  }
  return names;
}
