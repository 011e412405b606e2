import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { generateExport } from '../../apps/generate/generate-export.js';
import { type PlanDeps, plan } from '../../lambdas/plan/plan.js';
import { parseConfig } from '../../src/config/migration-config.js';
import type { RunInfo } from '../../src/ports/runs.js';
import { loadProfile } from '../../src/source/profile.js';
import { tempDir } from '../support/exports.js';

/** Plan over a generated export, on in-memory stores: which batches each phase gets. */
async function phasesFor(clinicalNotes: string) {
  const dir = await tempDir('plan-phases-');
  const zip = join(dir, 'export.zip');
  await generateExport(zip, { patients: 12, seed: 4, documentsPer100: 50 });
  const run = {
    runId: 'r1',
    clinicId: 'c1',
    bucket: 'b',
    exportKey: 'exports/c1/export.zip',
    config: parseConfig({ clinicalNotes }),
  } as RunInfo;
  const objects = new Map<string, unknown>();
  const blobs = {
    putJson: async (_b: string, key: string, value: unknown) => void objects.set(key, value),
    byteSource: async () => ({
      name: 'export.zip',
      size: (await stat(zip)).size,
      readRange: (start: number, end: number): Readable => createReadStream(zip, { start, end: end - 1 }),
    }),
  } satisfies PlanDeps['blobs'];
  const store = {
    getRun: async () => run,
    putBatchCounts: async () => undefined,
    updateRunStatus: async () => undefined,
  } satisfies PlanDeps['store'];
  const out = await plan({ runId: 'r1' }, { blobs, store, profile: loadProfile() });
  // The batch keys reach the Maps from the manifests Plan wrote, never inline.
  const read = (m: { batches: number; manifest: string }) => {
    const batchKeys = objects.get(m.manifest) as string[];
    expect(batchKeys).toHaveLength(m.batches);
    return batchKeys;
  };
  return {
    setup: read(out.setup),
    patients: read(out.patients),
    appointments: read(out.appointments),
    documents: read(out.documents),
  };
}

const tables = (keys: readonly string[]) => [...new Set(keys.map((k) => k.split('/').at(-2)))].sort();

describe("plan's phases", () => {
  it('put documents beside appointments when notes become PDFs: PDFs are made while appointments are written', async () => {
    const phases = await phasesFor('pdf-per-patient');
    expect(phases.documents).toEqual([]);
    expect(tables(phases.appointments)).toEqual(['appointments', 'clinicalNotes', 'letters', 'uploads']);
    expect(tables(phases.patients)).toEqual(['clients']);
  });

  it('keep documents after appointments when notes become treatment notes on their booking', async () => {
    const phases = await phasesFor('native');
    expect(tables(phases.appointments)).toEqual(['appointments']);
    expect(tables(phases.documents)).toEqual(['clinicalNotes', 'letters', 'uploads']);
  });
});
