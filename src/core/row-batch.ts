/** One batch of a table's rows, as Plan writes it and a mapper reads it. */
export interface RowBatch {
  readonly table: string;
  readonly file: string;
  /** A partition: its rows are in these part files (in file order), not in `rows`. */
  readonly parts?: readonly string[];
  readonly rows: readonly {
    readonly row: number;
    readonly values: Record<string, string>;
    readonly extra: readonly { header: string; value: string }[];
    readonly fieldCountMismatch?: number;
  }[];
}
