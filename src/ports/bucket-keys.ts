/** The batch that asks for the "Migrated appointment" type, when some appointment needs it. */
export const MIGRATED_TYPE_BATCH = 'migrated-appointment-type';
/** The batch that writes the treatment note templates native notes are based on. */
export const TEMPLATES_BATCH = 'treatment-note-templates';

/** A batch key as a file name (anything but word characters, `.` and `-` becomes `_`). */
export const batchName = (batchKey: string) => batchKey.replace(/[^\w.-]+/g, '_');

/** Where a run keeps its working files and reports in the bucket. */
export const keys = {
  config: (clinicId: string) => `config/${clinicId}/migration.json`,
  batch: (runId: string, table: string, n: number) =>
    `work/${runId}/batches/${table}/${String(n).padStart(5, '0')}.json`,
  problems: (runId: string, name: string) => `work/${runId}/problems/${name}.json`,
  /** What a batch saw for the approval aids (samples and counts). */
  aids: (runId: string, name: string) => `work/${runId}/aids/${name}.json`,
  entries: (runId: string) => `work/${runId}/entries.json`,
  /** A partition of a table whose rows must be grouped (a patient's notes): its part files. */
  partition: (runId: string, table: string, p: number) =>
    `work/${runId}/batches/${table}/p${String(p).padStart(4, '0')}.json`,
  partitionPart: (runId: string, table: string, p: number, n: number) =>
    `work/${runId}/batches/${table}/p${String(p).padStart(4, '0')}/${String(n).padStart(5, '0')}.json`,
  runFile: (runId: string, name: string) => `work/${runId}/files/${name}`,
  /**
   * A Distributed Map's items (a JSON array) Plan or Preflight writes for the state machine's
   * ItemReader: a phase's batch keys, or the resources Reconcile reads.
   */
  manifest: (runId: string, name: string) => `work/${runId}/manifests/${name}.json`,
  /** A write command too long for an SQS message, kept for the writer (its message points here). */
  spilledCommand: (runId: string, name: string) => `work/${runId}/messages/${name}.json`,
  /** The treatment note templates Plan found in the notes table (native notes). */
  templates: (runId: string) => `work/${runId}/templates.json`,
  report: (clinicId: string, runId: string, file: string) => `reports/${clinicId}/${runId}/${file}`,
};
