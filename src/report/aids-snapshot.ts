import { z } from 'zod';
import type { AidsSnapshot } from './approval-aids.js';

const counts = z.record(z.string(), z.number());

/**
 * A batch's approval-aids snapshot as MapBatch leaves it in the bucket and the Report step reads
 * it back (issue 12: parsed where it enters). Its shape is `AidsSnapshot`'s; the annotation keeps
 * the two in step.
 */
export const AidsSnapshotSchema: z.ZodType<AidsSnapshot> = z.object({
  clients: z.array(
    z.object({
      sourceId: z.string(),
      file: z.string(),
      row: z.number(),
      asExported: z.record(z.string(), z.string()),
      asSent: z.record(z.string(), z.unknown()).optional(),
      outcome: z.string(),
    }),
  ),
  weeks: z.record(z.string(), z.object({ total: z.number(), byPractitioner: counts, byLocation: counts })),
  appointments: z.array(
    z.object({
      sourceId: z.string(),
      clientSourceId: z.string(),
      practitionerSourceId: z.string(),
      locationSourceId: z.string().optional(),
      local: z.string(),
      timeZone: z.string(),
      utc: z.string(),
      inBusinessZone: z.string(),
      businessZone: z.string().optional(),
      practitionerName: z.string().optional(),
      locationName: z.string().optional(),
      status: z.string(),
    }),
  ),
  documents: z.record(
    z.string(),
    z.object({
      notes: z.array(
        z.object({
          sourceId: z.string(),
          date: z.string(),
          noteType: z.string().optional(),
          row: z.number(),
        }),
      ),
      letters: z.number(),
      uploads: z.number(),
      bytes: z.number(),
    }),
  ),
  documentTotals: z.object({ letters: z.number(), uploads: z.number(), bytes: z.number() }),
  attendedByDay: counts.optional(),
});
