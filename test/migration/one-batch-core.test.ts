import { createReadStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { generateExport, sandboxSeedForGenerated } from '../../apps/generate/generate-export.js';
import type { SandboxSeed } from '../../apps/sandbox/seed.js';
import { mapBatch } from '../../lambdas/map-batch/map-batch.js';
import { plan } from '../../lambdas/plan/plan.js';
import { readClinikoReference } from '../../src/batch/dry-run.js';
import { readReferenceTables } from '../../src/batch/reference-tables.js';
import { TABLES } from '../../src/batch/row-processing.js';
import { type ClinikoReferenceData, scanExport } from '../../src/batch/scan-export.js';
import { type MigrationConfig, parseConfig } from '../../src/config/migration-config.js';
import type { Problem } from '../../src/core/problem.js';
import type { BlobStore } from '../../src/ports/blobs.js';
import type { BatchCounts, RecordOutcome } from '../../src/ports/outcomes.js';
import type { RunInfo } from '../../src/ports/runs.js';
import { resolveLocations, resolvePractitioners } from '../../src/resolve/references.js';
import { openArchive } from '../../src/source/archive.js';
import { readManifest } from '../../src/source/manifest.js';
import { loadProfile } from '../../src/source/profile.js';
import { CASE_NAMES, CASES_DIR } from '../support/cases.js';
import { damagedSeed, writeDamagedZip } from '../support/damaged-export.js';
import { tempDir } from '../support/exports.js';
import { clientFor, withSandbox } from '../support/sandbox.js';

/**
 * The dry run's scan and the pipeline's Plan + MapBatch (in-memory ports) read the same export
 * and must decide every row alike: the same outcomes, the same problems at the same places, the
 * same counts per entity (issue 12: one batch core, so the two cannot drift).
 */
const profile = loadProfile();
const ENTITIES = new Set<string>(TABLES.map((t) => t.entity));

interface Decided {
  readonly outcomes: string[];
  readonly problems: string[];
  readonly counts: Record<string, { source: number; planned: number; skipped: number; invalid: number }>;
}

const outcomeLine = (o: RecordOutcome) =>
  [o.entity, o.sourceId, o.outcome, o.reason ?? '', o.file, o.row, o.hash ?? ''].join('|');
/** Row-level problems of the transferable tables (reference tables and date order are Preflight's and Report's). */
const problemLines = (problems: readonly Problem[]) =>
  problems
    .filter((p) => ENTITIES.has(p.entity) && p.code !== 'TABLE_MISSING')
    .map((p) => [p.entity, p.sourceId, p.file, p.row, p.field, p.code, p.severity, p.message].join('|'))
    .sort();

async function viaScan(
  zip: string,
  config: MigrationConfig,
  cliniko: ClinikoReferenceData,
): Promise<Decided> {
  const outcomes: RecordOutcome[] = [];
  const result = await scanExport(zip, {
    profile,
    config,
    cliniko: async () => cliniko,
    onOutcome: (o) => void outcomes.push(o),
  });
  const counts: Decided['counts'] = {};
  for (const e of ENTITIES) {
    const c = result.entities[e as keyof typeof result.entities];
    counts[e] = {
      source: c.source,
      planned: c.planned + c.alreadyPresent,
      skipped: c.skipped,
      invalid: c.invalid,
    };
  }
  return { outcomes: outcomes.map(outcomeLine).sort(), problems: problemLines(result.problems), counts };
}

/** The bucket, the status table and the queue as maps: what Plan and a dry-run MapBatch use. */
class Memory {
  readonly objects = new Map<string, unknown>();
  readonly outcomes = new Map<string, RecordOutcome>();
  readonly counts = new Map<string, BatchCounts>();
  constructor(
    readonly run: RunInfo,
    readonly zip: string,
  ) {}
  readonly blobs: BlobStore = {
    getJson: async (_b, key, schema) => {
      const value = this.objects.get(key);
      return value === undefined ? undefined : schema.parse(value);
    },
    getText: () => Promise.reject(new Error('not used')),
    putJson: async (_b, key, value) => void this.objects.set(key, JSON.parse(JSON.stringify(value))),
    putText: async (_b, key, text) => void this.objects.set(key, text),
    putBytes: async (_b, key, bytes) => void this.objects.set(key, bytes),
    tag: async () => undefined,
    byteSource: async () => {
      const size = (await stat(this.zip)).size;
      return {
        name: 'export.zip',
        size,
        readRange: (start: number, end: number) => createReadStream(this.zip, { start, end: end - 1 }),
      };
    },
    read: (): Promise<Readable> => Promise.reject(new Error('not used')),
  };
  readonly store = {
    getRun: async () => this.run,
    updateRunStatus: async () => undefined,
    putBatchCounts: async (_r: string, key: string, c: BatchCounts) => void this.counts.set(key, c),
    putOutcomes: async (_r: string, list: readonly RecordOutcome[]) => {
      for (const o of list) this.outcomes.set(`${o.entity}|${o.sourceId}`, o);
    },
    getOutcomes: async (_r: string, entity: string, ids: readonly string[]) =>
      new Map(
        ids.flatMap((id) => {
          const o = this.outcomes.get(`${entity}|${id}`);
          return o ? [[id, o] as const] : [];
        }),
      ),
    getIdMap: async () => new Map(),
    recordWrite: async () => {
      throw new Error('a dry run writes nothing');
    },
  };
  readonly queue = {
    send: async () => {
      throw new Error('a dry run enqueues nothing');
    },
    outstanding: async () => 0,
  };
}

let runs = 0;

async function viaPipeline(
  zip: string,
  config: MigrationConfig,
  cliniko: ClinikoReferenceData,
): Promise<Decided> {
  // What Preflight learns: the export's practitioners and locations resolved against Cliniko's.
  const archive = await openArchive(zip);
  const manifest = await readManifest(archive);
  const refs = await readReferenceTables(archive, profile, config, () => undefined);
  await archive.close();
  const prac = resolvePractitioners(refs.practitioners, cliniko.practitioners, config);
  const locs = resolveLocations(refs.locations, cliniko.businesses, config, manifest?.timeZone);
  const run: RunInfo = {
    // MapBatch caches the export's entries per run: each export is its own run
    runId: `dry-${++runs}`,
    clinicId: 'c1',
    account: { shard: 'au1', id: '1', businesses: [] },
    scope: 'c1@au1-1',
    mode: 'dry-run',
    bucket: 'b',
    exportKey: 'exports/c1/export.zip',
    exportFile: 'export.zip',
    sha256: 'a'.repeat(64),
    startedAt: '2026-11-23T00:00:00Z',
    startedBy: 'test',
    config,
    ...(manifest ? { manifest } : {}),
    practitioners: Object.fromEntries(prac.refs),
    locations: Object.fromEntries(locs.refs),
    ...(locs.defaultBusinessId ? { defaultBusinessId: locs.defaultBusinessId } : {}),
    defaultTimeZone: locs.defaultTimeZone,
    clinikoUsers: ['1'],
    target: 'test',
  };
  const m = new Memory(run, zip);
  const deps = { blobs: m.blobs, store: m.store as never, queue: m.queue, profile };
  const phases = await plan({ runId: run.runId }, { ...deps, batchSize: 7 });
  for (const phase of ['setup', 'patients', 'appointments', 'documents'] as const)
    for (const batchKey of m.objects.get(phases[phase].manifest) as string[])
      await mapBatch({ runId: run.runId, batchKey }, deps);
  const problems = [...m.objects]
    .filter(([key]) => key.startsWith(`work/${run.runId}/problems/`))
    .flatMap(([, value]) => value as Problem[]);
  const counts: Decided['counts'] = {};
  for (const e of ENTITIES) counts[e] = { source: 0, planned: 0, skipped: 0, invalid: 0 };
  for (const c of m.counts.values()) {
    const into = counts[c.entity];
    if (!into) continue;
    into.source += c.source;
    into.planned += c.planned;
    into.skipped += c.skipped;
    into.invalid += c.invalid;
  }
  return {
    outcomes: [...m.outcomes.values()].map(outcomeLine).sort(),
    problems: problemLines(problems),
    counts,
  };
}

async function bothPaths(zip: string, seed: SandboxSeed, configInput: unknown = {}) {
  const apiKey = seed.users?.[0]?.api_key ?? '';
  const sandbox = await withSandbox({ shard: apiKey.split('-').pop() ?? 'au1', rateLimit: 100_000, seed });
  try {
    const cliniko = await readClinikoReference(clientFor(sandbox, { apiKey }));
    const config = parseConfig(configInput);
    return { scan: await viaScan(zip, config, cliniko), pipeline: await viaPipeline(zip, config, cliniko) };
  } finally {
    await sandbox.close();
  }
}

describe('the dry run and MapBatch share one batch core', () => {
  it('decide every row of a generated (messy) export alike', async () => {
    const zip = join(await tempDir('one-core-'), 'export.zip');
    await generateExport(zip, { patients: 40, seed: 12, documentsPer100: 30 });
    const { scan, pipeline } = await bothPaths(
      zip,
      sandboxSeedForGenerated('OneCoreKey0000000000000001-au1'),
    );
    expect(scan.outcomes.length).toBeGreaterThan(100);
    expect(scan.problems.length).toBeGreaterThan(0);
    expect(pipeline.counts).toEqual(scan.counts);
    expect(pipeline.outcomes).toEqual(scan.outcomes);
    expect(pipeline.problems).toEqual(scan.problems);
  }, 120_000);

  it('decide every row of an export with every kind of issue 25 damage alike', async () => {
    const { scan, pipeline } = await bothPaths(await writeDamagedZip(), damagedSeed());
    expect(scan.problems.length).toBeGreaterThan(20);
    expect(pipeline.counts).toEqual(scan.counts);
    expect(pipeline.outcomes).toEqual(scan.outcomes);
    expect(pipeline.problems).toEqual(scan.problems);
  }, 60_000);

  it.each(CASE_NAMES)(
    'decide every row of the real-world case %s alike',
    async (name) => {
      const seed = JSON.parse(readFileSync(join(CASES_DIR, name, 'seed.json'), 'utf8')) as SandboxSeed;
      const { scan, pipeline } = await bothPaths(join(CASES_DIR, name, 'export.zip'), seed);
      expect(scan.outcomes.length).toBeGreaterThan(0);
      expect(pipeline.counts).toEqual(scan.counts);
      expect(pipeline.outcomes).toEqual(scan.outcomes);
      expect(pipeline.problems).toEqual(scan.problems);
    },
    60_000,
  );
});
