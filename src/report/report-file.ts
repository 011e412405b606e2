import { z } from 'zod';
import { BoundaryError, parseAt } from '../core/boundary.js';
import { type EntityCounts, EntityCountsSchema, type EntityKey } from '../core/entities.js';
import { Problem } from '../core/problem.js';
import type { ArrivalCosts } from '../mapping/arrivals.js';
import type { ApprovalAids } from './approval-aids.js';
import type { RunProjection } from './run-projection.js';
import type { ChecklistItem, RunReport } from './run-report.js';

const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);

const Entities = z.object({
  patients: EntityCountsSchema,
  contacts: EntityCountsSchema,
  appointmentTypes: EntityCountsSchema,
  appointments: EntityCountsSchema,
  clinicalNotes: EntityCountsSchema,
  letters: EntityCountsSchema,
  fileUploads: EntityCountsSchema,
}) satisfies z.ZodType<Record<EntityKey, EntityCounts>>;

/**
 * report.json as written by `writeReportFiles` or the Report step (docs/REPORT.md), read back
 * from disk. What the summary and the page's tables read is checked field by field; the richer
 * sections (approval aids, projection, arrivals, reconciliation) are checked to be objects of the
 * right place, since only this program writes them. Unknown fields are kept, so a re-rendered page
 * shows all an older or newer version wrote.
 */
export const ReportFile = z.looseObject({
  runId: z.string().min(1),
  mode: z.enum(['dry-run', 'live']),
  status: z.enum(['succeeded', 'blocked', 'failed', 'interrupted']),
  source: z.object({ system: z.string(), file: z.string(), sha256: z.string() }),
  startedAt: z.string(),
  finishedAt: z.string(),
  timeZone: z.string().optional(),
  entities: Entities,
  excluded: z.record(z.string(), z.number()),
  problems: z.array(Problem),
  cliniko: z.object({
    requests: z.number(),
    byStatus: z.record(z.string(), z.number()),
    keys: z.number(),
    target: z.string(),
    account: z
      .object({
        shard: z.string(),
        businesses: z.array(z.string()),
        id: z.string().optional(),
        name: z.string().optional(),
      })
      .optional(),
    reconciliationRequests: z.number().optional(),
  }),
  arrivals: z.custom<ArrivalCosts>(isObject, 'not an object').optional(),
  projection: z.custom<RunProjection>(isObject, 'not an object').optional(),
  reconciliation: z
    .record(
      z.string(),
      z.object({ read: z.number(), requests: z.number(), notInCliniko: z.number(), found: z.number() }),
    )
    .optional(),
  approvalAids: z.custom<ApprovalAids>(isObject, 'not an object').optional(),
  checklist: z
    .array(z.object({ item: z.string(), detail: z.string() }) satisfies z.ZodType<ChecklistItem>)
    .optional(),
  summary: z.object({
    rowsRead: z.number(),
    errors: z.number(),
    warnings: z.number(),
    infos: z.number(),
    seconds: z.number(),
  }),
});

/**
 * Parses the text of a report.json read from `path`. Errors: text that is not JSON, or a report
 * missing what the page needs, is a BoundaryError naming the file and each field at fault.
 */
export function parseReportFile(text: string, path: string): RunReport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BoundaryError(`report ${path}`, [
      { path: '', message: `not JSON (${(err as Error).message})` },
    ]);
  }
  return parseAt(`report ${path}`, ReportFile, value);
}
