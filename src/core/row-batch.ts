import { z } from 'zod';

/** One batch of a table's rows, as Plan writes it and a mapper reads it (parsed where it is read). */
export const RowBatch = z.object({
  table: z.string(),
  file: z.string(),
  /** A partition: its rows are in these part files (in file order), not in `rows`. */
  parts: z.array(z.string()).readonly().optional(),
  rows: z
    .array(
      z.object({
        row: z.number().int().nonnegative(),
        values: z.record(z.string(), z.string()),
        extra: z.array(z.object({ header: z.string(), value: z.string() }).readonly()).readonly(),
        fieldCountMismatch: z.number().int().optional(),
        headerFieldCount: z.number().int().optional(),
        strayQuoteFields: z.array(z.string()).readonly().optional(),
        unterminatedQuote: z.object({ field: z.string(), lines: z.number().int() }).optional(),
        columnConflicts: z
          .array(
            z
              .object({ field: z.string(), kept: z.string(), others: z.array(z.string()).readonly() })
              .readonly(),
          )
          .readonly()
          .optional(),
        cleanedFields: z
          .array(
            z
              .object({
                field: z.string(),
                removed: z.array(z.string()).readonly(),
                replaced: z.array(z.string()).readonly(),
              })
              .readonly(),
          )
          .readonly()
          .optional(),
      }),
    )
    .readonly(),
});
export type RowBatch = z.output<typeof RowBatch>;
/** One row of a batch: the reader's SourceRow, every field of it (a test keeps the two equal). */
export type BatchRow = RowBatch['rows'][number];
