import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Sandbox, startSandbox } from '../../apps/sandbox/server.js';
import { type ReconcileBudget, reconcile } from '../../lambdas/reconcile/reconcile.js';
import { dynamoStatusStore } from '../../src/adapters/aws/dynamo-status-store.js';
import { ClinikoClient } from '../../src/cliniko/client.js';
import { nodeTransport } from '../../src/cliniko/transport.js';
import { Problems } from '../../src/core/problem.js';
import type { BlobStore } from '../../src/ports/blobs.js';
import { keys } from '../../src/ports/bucket-keys.js';
import type { StatusStore } from '../../src/ports/status-store.js';
import { accountPatients } from '../../src/reconcile/account-patients.js';
import { checkpointKeys, ReconcileCheckpoint } from '../../src/reconcile/checkpoint.js';
import { naturalKeyHash } from '../../src/reconcile/resources.js';
import { type LocalTable, localStatusTable } from '../support/dynalite.js';
import { memoryBlobs } from '../support/memory-blobs.js';
import { runInfo } from '../support/run-info.js';

/**
 * Reconciliation of an account far larger than one invocation can read (issue 22): 300,000
 * patients seeded in bulk, read across invocations of a small budget each, with the checkpoint
 * between them in the bucket. Each invocation ends within its budget, the checkpoint moves on
 * every time, every page is read exactly once, and the result is the account's.
 */
const KEY = 'LargeAccountKey0000000000000001-au1';
const PATIENTS = 300_000;
const BUDGET_MS = 4_000;
const RESERVE_MS = 1_500;

let sandbox: Sandbox;
let local: LocalTable;
let store: StatusStore;
const objects = new Map<string, unknown>();
/** The bucket as S3 keeps it: what is put is a copy, never the caller's array. */
const blobs: BlobStore = (() => {
  const inner = memoryBlobs(objects);
  return { ...inner, putJson: (b, k, v) => inner.putJson(b, k, structuredClone(v)) };
})();
/** Pages of /patients asked for, by page number. */
const pagesAsked = new Map<number, number>();
const run = runInfo({ runId: 'big1', scope: 'c1@au1-big', mode: 'live' });

beforeAll(async () => {
  sandbox = await startSandbox({
    rateLimit: 10_000_000,
    seed: {
      users: [{ first_name: 'Ada', last_name: 'Admin', role: 'administrator', api_key: KEY }],
      businesses: [{ business_name: 'Large Clinic' }],
    },
  });
  // every 100th patient came from an earlier migration (an old reference id); some were archived
  sandbox.state.insertMany('patients', PATIENTS, (i) => ({
    first_name: `Given${i}`,
    last_name: 'Family',
    old_reference_id: i % 100 === 0 ? `C${i}` : null,
    archived_at: i % 1_000 === 500 ? '2025-01-01T00:00:00Z' : null,
    patient_phone_numbers: [],
  }));
  local = await localStatusTable();
  store = dynamoStatusStore(local.name, local.client);
  await store.putRun(run);
  // the id map knows every other migrated patient, one archived since, and 40 deleted ones
  const patients = sandbox.state.all('patients');
  const byRef = new Map(patients.map((p) => [p.old_reference_id, p]));
  const entry = (clinikoId: string) => ({
    clinikoId,
    hash: 'h',
    runId: 'earlier',
    at: '2026-01-01T00:00:00Z',
    steps: [],
  });
  for (let i = 0; i < PATIENTS; i += 200)
    await store.putIdMap(run.scope, 'patients', `C${i}`, entry(String(byRef.get(`C${i}`)?.id)));
  await store.putIdMap(run.scope, 'patients', 'C500', entry(String(byRef.get('C500')?.id)));
  for (let i = 0; i < 40; i++)
    await store.putIdMap(run.scope, 'patients', `D${i}`, entry(`9${i}0000000000000000`));
}, 120_000);

afterAll(async () => {
  await sandbox?.close();
  await local?.close();
});

describe('reconciliation of a 300,000-patient account', () => {
  it('takes several invocations, each within its budget, and reads every page once', async () => {
    // the real transport, noting which pages of /patients were asked for
    const client = new ClinikoClient({
      apiKey: KEY,
      baseUrl: sandbox.baseUrl,
      transport: (request) => {
        const url = new URL(request.url);
        if (url.pathname === '/v1/patients') {
          const page = Number(url.searchParams.get('page') ?? '1');
          pagesAsked.set(page, (pagesAsked.get(page) ?? 0) + 1);
        }
        return nodeTransport(request);
      },
    });
    const deps = { store, blobs, cliniko: async () => client };
    const progress: string[] = [];
    let out: Awaited<ReturnType<typeof reconcile>> | undefined;
    let invocations = 0;
    const took: number[] = [];
    do {
      const started = Date.now();
      const budget: ReconcileBudget = {
        timeLeft: () => started + BUDGET_MS - Date.now(),
        reserveMs: RESERVE_MS,
        partitionRecords: 20_000,
      };
      out = await reconcile({ runId: run.runId, resource: 'patients' }, deps, budget);
      invocations++;
      took.push(Date.now() - started);
      expect(Date.now() - started).toBeLessThan(BUDGET_MS);
      const cp = await blobs.getJson(
        run.bucket,
        checkpointKeys.checkpoint(run.runId, 'patients'),
        ReconcileCheckpoint,
      );
      const at = JSON.stringify([cp?.step, cp?.read, cp?.idEntity, cp?.idCursor, cp?.joinPartition]);
      // the checkpoint moves on with every invocation
      expect(progress).not.toContain(at);
      progress.push(at);
      expect(out.invocations).toBe(invocations);
    } while (!out.done && invocations < 200);

    console.log(
      `${PATIENTS.toLocaleString('en-US')} patients reconciled in ${invocations} invocations of at most ${BUDGET_MS} ms (longest ${Math.max(...took)} ms), ${out.requests} requests`,
    );
    expect(out.done).toBe(true);
    expect(invocations).toBeGreaterThan(3);
    const pages = Math.ceil(PATIENTS / 100);
    expect(pagesAsked.size).toBe(pages);
    expect([...pagesAsked.values()].every((n) => n === 1)).toBe(true);
    expect(Math.max(...pagesAsked.keys())).toBe(pages);

    // what the account holds, counted from the sandbox itself
    const patients = sandbox.state.all('patients');
    const mapped = new Set<string>();
    for await (const { entry } of store.listIdMap(run.scope, 'patients')) mapped.add(entry.clinikoId);
    const live = patients.filter((p) => !p.archived_at);
    const found = live.filter((p) => p.old_reference_id && !mapped.has(p.id));
    expect(out).toMatchObject({ read: PATIENTS, found: found.length, notInCliniko: 41 });
    expect(found.length).toBeGreaterThan(1_000);

    // gone ids are forgotten, and reported; found ones are findings by natural key
    const left = [];
    for await (const r of store.listIdMap(run.scope, 'patients')) left.push(r.sourceId);
    expect(left.filter((s) => s.startsWith('D') || s === 'C500')).toEqual([]);
    const problems =
      (await blobs.getJson(run.bucket, keys.problems(run.runId, 'reconcile-patients'), Problems)) ?? [];
    expect(problems.map((p) => p.code)).toEqual(Array.from({ length: 41 }, () => 'NOT_IN_CLINIKO'));
    for (const p of [found[0], found.at(-1)]) {
      const key = naturalKeyHash(String(p?.old_reference_id));
      await expect(store.getFound(run.scope, 'patients', run.runId, key)).resolves.toBe(p?.id);
    }
    // the mappers' view of the account: every live patient, once
    let listed = 0;
    const seen = new Set<string>();
    for await (const p of accountPatients(blobs, run.bucket, run.runId)) {
      listed++;
      seen.add(p.id);
    }
    expect(listed).toBe(live.length);
    expect(seen.size).toBe(live.length);
  }, 300_000);
});
