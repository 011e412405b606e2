import type { RowOutcome } from '../core/problem.js';
import { type EntryMatch, safeEntryPath } from '../source/archive.js';
import type { LocationRef, PractitionerRef, References } from '../translate/builders.js';

/**
 * What a batch's rows may refer to, as whichever caller knows it: the dry run's scan (from the
 * rows it has read so far), MapBatch (from the outcomes earlier phases stored), Plan (nothing yet).
 * Anything left out is unknown: a patient has no outcome, a contact or type does not exist.
 */
export interface ReferenceSources {
  /** The zone of rows without a (known) location (IANA name). */
  readonly defaultTimeZone: string;
  readonly patient?: (sourceId: string) => RowOutcome | undefined;
  readonly contact?: (kind: 'employer' | 'referrer' | 'debtor', sourceId: string) => boolean;
  readonly location?: (sourceId: string) => LocationRef | undefined;
  readonly practitioner?: (sourceId: string) => PractitionerRef | undefined;
  readonly appointmentType?: (sourceId: string) => boolean;
  /** Finds an export entry by a path already made safe (`EntryIndex.match`). */
  readonly entry?: (safePath: string) => EntryMatch;
}

/**
 * The one builder of `References` (issue 12): a document path that escapes the export is
 * `'escapes'` (docs/EXPORT-FORMAT.md, What the dry run checks: documents) whoever looks it up,
 * before the entry is searched for.
 */
export function references(sources: ReferenceSources): References {
  return {
    patient: (id) => sources.patient?.(id),
    contact: (kind, id) => sources.contact?.(kind, id) ?? false,
    location: (id) => sources.location?.(id),
    practitioner: (id) => sources.practitioner?.(id),
    appointmentType: (id) => sources.appointmentType?.(id) ?? false,
    defaultTimeZone: sources.defaultTimeZone,
    document: (path) => {
      const safe = safeEntryPath(path);
      if (safe === undefined) return { kind: 'escapes' };
      return sources.entry?.(safe) ?? { kind: 'missing' };
    },
  };
}
