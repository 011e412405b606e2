import type { SandboxSeed } from '../sandbox/seed.js';
import { clientRows } from './client-table.js';
import {
  appointmentTypeRows,
  debtorRows,
  employerRows,
  locationRows,
  practitionerRows,
  referrerRows,
} from './clinic-tables.js';
import { documentFiles, invoiceRows, letterRows, paymentRows, uploadRows } from './document-tables.js';
import { ExportZip } from './export-zip.js';
import { type GenerateOptions, generation } from './generation.js';
import { appointmentRows, clinicalNoteRows } from './history-tables.js';
import { LOCATIONS, PRACTITIONERS } from './vocabulary.js';

export type { GenerateOptions } from './generation.js';

export interface GenerateSummary {
  /** Rows written per table (duplicates included). */
  readonly rows: Record<string, number>;
}

/**
 * Writes a synthetic Gensolve export (docs/EXPORT-FORMAT.md) of any size to `outPath`,
 * deterministic for a seed (the same options give the same bytes), with the messiness real exports
 * have: a Windows-1252 table, a UTF-8 BOM, renamed and reordered headers, an unknown column,
 * multi-line quoted notes, duplicate keys, dangling references, invalid dates and e-mails,
 * appointments in DST gaps and overlaps, missing and escaping document paths, and financial tables.
 * Rows are generated as they are zipped: memory stays flat at any size. Each table's rows come from
 * its writer (clinic-tables, client-table, history-tables, document-tables); the entry order is the
 * order the tables draw from the seeded random source, so it is part of the output.
 */
export async function generateExport(outPath: string, options: GenerateOptions): Promise<GenerateSummary> {
  const g = generation(options);
  const zip = new ExportZip(g.end);
  const manifest = {
    system: 'Gensolve Practice Manager',
    exportedAt: '2026-11-01T09:00:00+13:00',
    timeZone: 'Pacific/Auckland',
  };
  zip.addFile('GensolveExport/manifest.json', Buffer.from(JSON.stringify(manifest, null, 2)));
  zip.addTable('GensolveExport/Locations.csv', () => locationRows(g));
  zip.addTable('GensolveExport/Practitioners.csv', () => practitionerRows(g));
  zip.addTable('GensolveExport/AppointmentTypes.csv', () => appointmentTypeRows(g));
  zip.addTable('GensolveExport/Employers.csv', () => employerRows(g));
  zip.addTable('GensolveExport/Referrers.csv', () => referrerRows(g), 'windows-1252');
  zip.addTable('GensolveExport/Debtors.csv', () => debtorRows(g));
  zip.addTable('GensolveExport/Clients.csv', () => clientRows(g), 'utf8-bom');
  zip.addTable('GensolveExport/Appointments.csv', () => appointmentRows(g));
  zip.addTable('GensolveExport/ClinicalNotes.csv', () => clinicalNoteRows(g));
  zip.addTable('GensolveExport/Letters.csv', () => letterRows(g));
  zip.addTable('GensolveExport/Uploads.csv', () => uploadRows(g));
  for (const file of documentFiles(g))
    if ('stream' in file) zip.addStream(file.name, file.stream, file.size);
    else zip.addFile(file.name, file.bytes);
  zip.addTable('GensolveExport/Invoices.csv', () => invoiceRows(g));
  zip.addTable('GensolveExport/Payments.csv', () => paymentRows(g));
  await zip.write(outPath);
  return { rows: g.rows };
}

/**
 * What a clinic would have set up in Cliniko before transferring a generated export: a business per
 * location (in its zone) and every practitioner, plus a user owning the given API key.
 */
export function sandboxSeedForGenerated(apiKey: string): SandboxSeed {
  return {
    users: [{ first_name: 'Migration', last_name: 'Operator', api_key: apiKey }],
    businesses: LOCATIONS.map((l) => ({ business_name: l.name, time_zone_identifier: l.zone })),
    practitioners: PRACTITIONERS.map(([, first, last]) => ({ first_name: first, last_name: last })),
  };
}
