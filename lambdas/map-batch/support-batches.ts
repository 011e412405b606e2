import { z } from 'zod';
import { lane } from '../../src/batch/native-notes.js';
import { contentHash, MIGRATED_TYPE_ID } from '../../src/batch/payload.js';
import { migratedAppointmentType } from '../../src/mapping/cliniko-bodies.js';
import { templateBody } from '../../src/mapping/treatment-notes.js';
import type { BlobStore } from '../../src/ports/blobs.js';
import { keys, MIGRATED_TYPE_BATCH, TEMPLATES_BATCH } from '../../src/ports/bucket-keys.js';
import type { CommandQueue } from '../../src/ports/command-queue.js';
import type { BatchCounts, OutcomeStore } from '../../src/ports/outcomes.js';
import type { RunInfo } from '../../src/ports/runs.js';
import { commandFor } from './commands.js';

/**
 * The batches that write what no source row is (the "Migrated appointment" type, treatment note
 * templates): counted as enqueued so their phase waits for them, never as migrated records.
 */
export interface SupportDeps {
  readonly blobs: BlobStore;
  readonly store: OutcomeStore;
  readonly queue: CommandQueue;
}

const enqueuedOnly = (entity: BatchCounts['entity'], enqueued: number): BatchCounts => ({
  entity,
  source: 0,
  planned: 0,
  skipped: 0,
  invalid: 0,
  enqueued,
  failed: 0,
});

/** Writes "Migrated appointment" (Cliniko's API documentation on appointment types) in a live run. */
export async function mapMigratedType(
  run: RunInfo,
  deps: SupportDeps,
): Promise<{ batchKey: string; enqueued: number }> {
  if (run.mode !== 'live') return { batchKey: MIGRATED_TYPE_BATCH, enqueued: 0 };
  const body = migratedAppointmentType();
  await deps.queue.send([
    commandFor(run, {
      entity: 'migratedAppointmentType',
      sourceId: MIGRATED_TYPE_ID,
      file: '',
      row: 0,
      hash: contentHash(body),
      keyIndex: 0,
      payload: { kind: 'appointmentType', body },
    }),
  ]);
  await deps.store.putBatchCounts(run.runId, MIGRATED_TYPE_BATCH, enqueuedOnly('migratedAppointmentType', 1));
  return { batchKey: MIGRATED_TYPE_BATCH, enqueued: 1 };
}

/** Writes the treatment note templates Plan found (one per assessment type), before any note. */
/** The templates Plan found, as it leaves them in the bucket. */
const TemplateList = z.array(z.object({ name: z.string(), columns: z.array(z.string()) }));

export async function mapTemplates(
  run: RunInfo,
  deps: SupportDeps,
): Promise<{ batchKey: string; enqueued: number }> {
  const found = (await deps.blobs.getJson(run.bucket, keys.templates(run.runId), TemplateList)) ?? [];
  const live = run.mode === 'live';
  const commands = found.map((t) => {
    const body = templateBody(t.name, t.columns);
    return commandFor(run, {
      entity: 'treatmentNoteTemplates',
      sourceId: t.name,
      file: '',
      row: 0,
      hash: contentHash(body),
      keyIndex: lane(t.name, run.clinikoUsers.length),
      payload: { kind: 'treatmentNoteTemplate', body },
    });
  });
  if (live && commands.length) await deps.queue.send(commands);
  await deps.store.putBatchCounts(
    run.runId,
    TEMPLATES_BATCH,
    enqueuedOnly('treatmentNoteTemplates', live ? commands.length : 0),
  );
  return { batchKey: TEMPLATES_BATCH, enqueued: live ? commands.length : 0 };
}
