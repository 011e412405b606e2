import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AttributeValue,
  DynamoDBClient,
  ListTablesCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from '@jest/globals';
import dynalite from 'dynalite';
import { generateExport, sandboxSeedForGenerated } from '../../apps/generate/generate-export.js';
import { runLocal } from '../../apps/local/run-local.js';
import { startSandbox } from '../../apps/sandbox/server.js';
import { familyOf, itemSize } from '../support/item-size.js';

/**
 * No status-table item grows with the number of records (issue 22, "Bounded items"): live runs of
 * a 30- and a 240-patient generated export on the local runtime, then every item of the status
 * table each left, grouped by family (sort-key prefix before its variable part). A family's
 * largest item at 240 patients is at most 1.5× its largest at 30: an item that kept a set, list
 * or map of the run's records would be about 8× bigger.
 */
const KEY = 'ItemSizeKey00000000000000000001-au1';

/** Per family, the largest item's size in bytes and how many items, after a live run of `patients`. */
async function liveRunItems(patients: number): Promise<Map<string, { largest: number; items: number }>> {
  const dir = mkdtempSync(join(tmpdir(), `item-size-${patients}-`));
  const exportZip = join(dir, 'export.zip');
  const statePath = join(dir, 'state');
  await generateExport(exportZip, { patients, appointmentsPerPatient: 3, documentsPer100: 5, seed: 5 });
  const sandbox = await startSandbox({ rateLimit: 100_000, seed: sandboxSeedForGenerated(KEY) });
  try {
    const result = await runLocal(
      {
        exportZip,
        mode: 'live',
        credentials: { apiKeys: [KEY], baseUrl: sandbox.baseUrl },
        rateLimitPerMinute: 100_000,
        statePath,
        visibilityTimeoutSeconds: 1,
        batchSize: 40,
      },
      (runId) => join(dir, runId),
    );
    expect(result.report.entities.patients.created).toBeGreaterThan(patients * 0.8);
  } finally {
    await sandbox.close();
  }
  return scanFamilies(statePath);
}

async function scanFamilies(statePath: string): Promise<Map<string, { largest: number; items: number }>> {
  const server = dynalite({ path: statePath });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const db = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const families = new Map<string, { largest: number; items: number }>();
  try {
    for (const table of (await db.send(new ListTablesCommand({}))).TableNames ?? []) {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await db.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
        for (const item of page.Items ?? []) {
          const family = familyOf(item.pk?.S ?? '', item.sk?.S ?? '');
          const f = families.get(family) ?? { largest: 0, items: 0 };
          f.largest = Math.max(f.largest, itemSize(item));
          f.items++;
          families.set(family, f);
        }
        start = page.LastEvaluatedKey;
      } while (start);
    }
  } finally {
    db.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
  return families;
}

describe('status-table items of a live run', () => {
  it('do not grow with the number of records: largest item per family at 240 patients ≤ 1.5× at 30', async () => {
    const small = await liveRunItems(30);
    const large = await liveRunItems(240);
    const rows = [...large].map(([family, l]) => {
      const s = small.get(family);
      return { family, small: s?.largest ?? 0, large: l.largest, items: `${s?.items ?? 0} → ${l.items}` };
    });
    console.log(
      `largest item per family (bytes), 30 → 240 patients:\n${rows
        .map(
          (r) =>
            `  ${r.family.padEnd(36)} ${String(r.small).padStart(6)} → ${String(r.large).padStart(6)}  (${(r.large / Math.max(r.small, 1)).toFixed(2)}×; items ${r.items})`,
        )
        .join('\n')}`,
    );
    // the run's own families and the per-record ones are all there, in both runs
    for (const family of [
      'RUN/RUN',
      'RUN/REQ',
      'RUN/BATCH',
      'RUN/OUT#patients',
      'RUN/DONE#patients',
      'CLINIC/ID#patients',
    ])
      expect({ family, small: small.has(family), large: large.has(family) }).toEqual({
        family,
        small: true,
        large: true,
      });
    // a family only the larger run has (a record kind the small export lacks) is held to the bound
    // of the same kind's per-record family; none should exist with items that carry collections
    const grown = rows.filter((r) => r.small > 0 && r.large > r.small * 1.5);
    expect(grown).toEqual([]);
    for (const r of rows.filter((x) => x.small === 0)) expect(r.large).toBeLessThan(4_096);
  }, 600_000);
});
