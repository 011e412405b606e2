import type { Problem } from '../core/problem.js';

/**
 * The approval aids' records (approval-aids.ts): what a batch's collector keeps, and what the
 * report shows. Sample sizes are fixed so every batch keeps the same lowest hashes.
 */
export const CLIENT_SAMPLE = 20;
export const APPOINTMENT_SAMPLE = 12;

export interface SampledClient {
  readonly sourceId: string;
  readonly file: string;
  readonly row: number;
  readonly asExported: Readonly<Record<string, string>>;
  /** The body sent (or, in a dry run, to be sent) to Cliniko; absent for an invalid row. */
  readonly asSent?: Readonly<Record<string, unknown>>;
  readonly outcome: string;
  /** The client's name as the export gives it, filled in by the report (never stored in a batch's aids). */
  readonly clientName?: string;
}

export interface SampledAppointment {
  readonly sourceId: string;
  readonly clientSourceId: string;
  readonly practitionerSourceId: string;
  readonly locationSourceId?: string;
  /** As exported, in the zone it was read in. */
  readonly local: string;
  readonly timeZone: string;
  /** Sent to Cliniko. */
  readonly utc: string;
  /** The same instant as the Cliniko business shows it, in its zone. */
  readonly inBusinessZone: string;
  /** The IANA zone of the Cliniko business it went to. */
  readonly businessZone?: string;
  /** Names as exported, filled in by the report. */
  readonly practitionerName?: string;
  readonly locationName?: string;
  /** The client's name as the export gives it, filled in by the report (never stored in a batch's aids). */
  readonly clientName?: string;
  readonly status: string;
}

export interface WeekCounts {
  total: number;
  byPractitioner: Record<string, number>;
  byLocation: Record<string, number>;
}

export interface ClientDocuments {
  /** `row`: the note's row in ClinicalNotes.csv, so export order survives merging batches. */
  notes: { sourceId: string; date: string; noteType?: string; row: number }[];
  letters: number;
  uploads: number;
  bytes: number;
}

/** What one batch (or one whole scan) saw: serialisable, and merged by the report. */
export interface AidsSnapshot {
  clients: SampledClient[];
  /** Monday (yyyy-mm-dd, local) → counts. */
  weeks: Record<string, WeekCounts>;
  appointments: SampledAppointment[];
  documents: Record<string, ClientDocuments>;
  documentTotals: { letters: number; uploads: number; bytes: number };
  /** Attended appointments by UTC day: what marking arrivals costs (see migration/arrivals.ts). */
  attendedByDay?: Record<string, number>;
}

export interface BusyWeek {
  readonly weekStart: string;
  readonly weekEnd: string;
  readonly appointments: number;
  readonly byPractitioner: { sourceId: string; name?: string; source: number; cliniko?: number }[];
  readonly byLocation: { sourceId: string; name?: string; source: number; cliniko?: number }[];
}

export interface ApprovalAids {
  readonly clientSample: readonly SampledClient[];
  readonly busiestWeek: BusyWeek | null;
  readonly appointmentSample: readonly SampledAppointment[];
  readonly dstEdgeCases: readonly Pick<Problem, 'sourceId' | 'file' | 'row' | 'code' | 'message'>[];
  readonly notesByClient: readonly {
    clientSourceId: string;
    clientName?: string;
    notes: ClientDocuments['notes'];
    inDateOrder: boolean;
  }[];
  readonly attachmentsByClient: readonly {
    clientSourceId: string;
    clientName?: string;
    letters: number;
    uploads: number;
    bytes: number;
  }[];
  readonly attachmentTotals: { letters: number; uploads: number; bytes: number };
  readonly ambiguousDateColumns: readonly Pick<Problem, 'file' | 'field' | 'message'>[];
}

export function emptySnapshot(): AidsSnapshot {
  return {
    clients: [],
    weeks: {},
    appointments: [],
    documents: {},
    documentTotals: { letters: 0, uploads: 0, bytes: 0 },
  };
}
