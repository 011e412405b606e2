import type { z } from 'zod';

/**
 * Data refused where it enters (a step's input, a batch read back from S3, an item read back from
 * DynamoDB, the environment): the message names the boundary and each field at fault, never the
 * values (they may identify a patient).
 */
export class BoundaryError extends Error {
  constructor(
    /** Where the data entered, e.g. `MapBatch input`, `S3 row batch work/r1/batches/...`. */
    readonly boundary: string,
    /** Each field at fault (`a.b.0.c`, empty for the whole value) and what was wrong with it. */
    readonly fields: readonly { readonly path: string; readonly message: string }[],
  ) {
    super(
      `${boundary} refused: ${fields.map((f) => (f.path ? `${f.path}: ${f.message}` : f.message)).join('; ')}`,
    );
    this.name = 'BoundaryError';
  }
}

/**
 * Parses `value` with `schema`, or throws a BoundaryError naming `boundary` and the fields at
 * fault. Returns the schema's output (defaults filled in, unknown keys of plain objects dropped).
 */
export function parseAt<S extends z.ZodType>(boundary: string, schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new BoundaryError(
    boundary,
    result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  );
}
