import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LocalRunResult, runLocal } from '../../apps/local/run-local.js';
import type { SandboxSeed } from '../../apps/sandbox/seed.js';
import { type Sandbox, startSandbox } from '../../apps/sandbox/server.js';
import { ClinikoClient } from '../../src/cliniko/client.js';
import type { Problem } from '../../src/core/problem.js';
import { tempDir } from './exports.js';

/** The real-world input cases (`../shared/cases/`), copied into the project's fixtures. */
export const CASES_DIR = new URL('../fixtures/cases/', import.meta.url).pathname;

export const CASE_NAMES = [
  '02-emoji-in-name',
  '04-mixed-utf8-cp1252-rows',
  '05-nfd-attachment-filename',
  '07-date-with-midnight-time',
  '08-unescaped-quote-in-note',
  '09-phone-excel-float-damage',
  '11-attachment-filename-special-chars',
  '17-zero-byte-document',
  '26-case-colliding-document-paths',
  '29-duplicate-header-names',
  '30-phone-two-numbers-extension',
] as const;

export interface CaseRun {
  readonly sandbox: Sandbox;
  /** Reads what landed in Cliniko through the documented API, with the case's own key. */
  readonly client: ClinikoClient;
  readonly dry: LocalRunResult;
  readonly live: LocalRunResult;
}

/** An export to run as an operator would: its zip and the sandbox seed of its clinic's account. */
export interface ExportUnderTest {
  readonly zip: string;
  readonly seed: SandboxSeed;
}

export const caseExport = (name: string): ExportUnderTest => ({
  zip: join(CASES_DIR, name, 'export.zip'),
  seed: JSON.parse(readFileSync(join(CASES_DIR, name, 'seed.json'), 'utf8')) as SandboxSeed,
});

/**
 * Runs one case as an operator would: the export's zip through the local pipeline, first as a dry
 * run, then live, into a sandbox seeded with the case's `seed.json`.
 */
export async function runCase(name: string): Promise<CaseRun> {
  return runExport(name, caseExport(name));
}

/** Runs an export dry, then live, into a sandbox seeded for it (`label` names its output folder). */
export async function runExport(label: string, { zip, seed }: ExportUnderTest): Promise<CaseRun> {
  const apiKey = seed.users?.[0]?.api_key ?? '';
  const sandbox = await startSandbox({
    shard: apiKey.split('-').pop() ?? 'au1',
    rateLimit: 100_000,
    attachmentProcessingMs: 10,
    seed,
  });
  const out = await tempDir(`case-${label}-`);
  const run = (mode: 'dry-run' | 'live') =>
    runLocal(
      {
        exportZip: zip,
        mode,
        credentials: { apiKeys: [apiKey], baseUrl: sandbox.baseUrl },
        rateLimitPerMinute: 100_000,
        visibilityTimeoutSeconds: 1,
        clinikoRetry: { maxAttempts: 2, baseDelayMs: 5 },
      },
      (runId) => join(out, mode, runId),
    );
  const dry = await run('dry-run');
  const live = await run('live');
  const client = new ClinikoClient({
    apiKey,
    baseUrl: sandbox.baseUrl,
    userAgent: 'cliniko-migrate case tests (tests@example.com)',
  });
  return { sandbox, client, dry, live };
}

/** A problem as the report places it, without the wording. */
export const where = (p: Problem) => `${p.file}:${p.row}:${p.field}:${p.code}:${p.severity}`;

/**
 * One case as a suite: runs it dry then live before its tests, and always checks that the dry run
 * predicted the live run (issue 13, point 8): per entity, what the dry run planned is what the
 * live run created, nothing failed, and both runs report the same problems at the same places.
 */
export function caseSuite(
  name: (typeof CASE_NAMES)[number],
  tests: (get: () => CaseRun) => void,
  vitest: SuiteFunctions,
): void {
  exportSuite(name, async () => caseExport(name), tests, vitest);
}

type SuiteFunctions = {
  describe: (name: string, fn: () => void) => void;
  it: (name: string, fn: () => Promise<void> | void) => void;
  beforeAll: (fn: () => Promise<void>, timeout?: number) => void;
  afterAll: (fn: () => Promise<void>) => void;
  expect: typeof import('@jest/globals').expect;
};

/** `caseSuite` for any export: built by `build` before the suite runs it dry, then live. */
export function exportSuite(
  name: string,
  build: () => Promise<ExportUnderTest>,
  tests: (get: () => CaseRun) => void,
  vitest: SuiteFunctions,
): void {
  const { describe, it, beforeAll, afterAll, expect } = vitest;
  describe(name, () => {
    let run: CaseRun | undefined;
    beforeAll(async () => {
      run = await runExport(name, await build());
    }, 180_000);
    afterAll(async () => {
      await run?.sandbox.close();
    });
    const get = () => {
      if (!run) throw new Error(`case ${name} did not run`);
      return run;
    };
    it('dry run predicts the live run: counts and warnings', () => {
      const { dry, live } = get();
      expect(dry.report.status).toBe('succeeded');
      expect(live.report.status).toBe('succeeded');
      for (const [entity, d] of Object.entries(dry.report.entities)) {
        const l = live.report.entities[entity as keyof typeof live.report.entities];
        // a dry run plans only what the live run creates; what is already there it counts as such
        expect({ entity, ...l, planned: l.created }).toMatchObject({
          entity,
          source: d.source,
          planned: d.planned,
          alreadyPresent: d.alreadyPresent,
          updated: d.updated,
          invalid: d.invalid,
          skipped: d.skipped,
          failed: 0,
        });
      }
      const warnings = (r: CaseRun['dry']) =>
        r.report.problems
          .filter((p) => p.severity === 'warning')
          .map(where)
          .sort();
      expect(warnings(live)).toEqual(warnings(dry));
      expect(live.report.problems.map(where).sort()).toEqual(dry.report.problems.map(where).sort());
      expect(live.deadLetters).toBe(0);
    });
    tests(get);
  });
}
