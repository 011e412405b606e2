import { z } from 'zod';
import type { MigrationConfig } from '../config/migration-config.js';
import type { RowOutcome } from '../core/problem.js';
import type { DateOrderEvidence, LocalDate } from '../core/values.js';
import type { EntryMatch } from '../source/archive.js';
import type { SourceProfile } from '../source/profile.js';

/**
 * Row builders: one source row in, one canonical record (or none) out, with the row's outcome and
 * every problem found, following the row outcomes of docs/EXPORT-FORMAT.md ("What happens to each
 * row") exactly. They are pure: what they need to know about other tables comes through
 * `References`, so the same code runs in one process over a whole export or in a Lambda over one
 * batch.
 */
export const PractitionerRef = z
  .object({
    /** `matched` (or reassigned) practitioners have a Cliniko id; the others follow the policy. */
    status: z.enum(['matched', 'unmatched', 'excluded']),
    clinikoId: z.string().optional(),
    /** As exported ("Dr Jane Smith"): shown on notes PDFs. */
    name: z.string().optional(),
  })
  .readonly();
export type PractitionerRef = z.output<typeof PractitionerRef>;

export const LocationRef = z
  .object({
    timeZone: z.string(),
    businessId: z.string().optional(),
    /** As exported ("Auckland Central"): shown in the report instead of the source id. */
    name: z.string().optional(),
  })
  .readonly();
export type LocationRef = z.output<typeof LocationRef>;

export interface References {
  /** The outcome of a client's row, or undefined when the export has no such client. */
  patient(sourceId: string): RowOutcome | undefined;
  contact(kind: 'employer' | 'referrer' | 'debtor', sourceId: string): boolean;
  location(sourceId: string): LocationRef | undefined;
  practitioner(sourceId: string): PractitionerRef | undefined;
  appointmentType(sourceId: string): boolean;
  /** The zone of rows without a (known) location. */
  readonly defaultTimeZone: string;
  /**
   * Looks a document up in the archive (`EntryIndex.match`: exact, else the only loose match);
   * `escapes` for a path that points outside the export, which is never searched for.
   */
  document(path: string): EntryMatch | { readonly kind: 'escapes' };
}

export interface RowContext {
  readonly file: string;
  readonly entity: string;
  readonly profile: SourceProfile;
  readonly config: MigrationConfig;
  readonly refs: References;
  readonly evidence: DateOrderEvidence;
  /**
   * The export's date (manifest `exportedAt`, else today), in the clinic's calendar: birth dates
   * after it, or more than 120 years before it, are left out (docs/EXPORT-FORMAT.md, CSV
   * conventions).
   */
  readonly exportDate?: LocalDate;
}
