import type { Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import type { z } from 'zod';
import { Partitioner } from '../../lambdas/plan/plan.js';
import { RowBatch } from '../../src/core/row-batch.js';
import type { BlobStore } from '../../src/ports/blobs.js';
import type { SourceRow } from '../../src/source/csv.js';

/** The bucket as a map: enough for what the partitioner writes. */
class MemoryBlobs implements BlobStore {
  readonly objects = new Map<string, string>();
  async tag(): Promise<void> {}
  async getJson<S extends z.ZodType>(
    _bucket: string,
    key: string,
    schema: S,
  ): Promise<z.output<S> | undefined> {
    const text = this.objects.get(key);
    return text === undefined ? undefined : schema.parse(JSON.parse(text));
  }
  async getText(_bucket: string, key: string): Promise<string | undefined> {
    return this.objects.get(key);
  }
  async putJson(_bucket: string, key: string, value: unknown): Promise<void> {
    this.objects.set(key, JSON.stringify(value));
  }
  async putText(_bucket: string, key: string, text: string): Promise<void> {
    this.objects.set(key, text);
  }
  async putBytes(_bucket: string, key: string, bytes: Uint8Array): Promise<void> {
    this.objects.set(key, Buffer.from(bytes).toString('latin1'));
  }
  byteSource(): never {
    throw new Error('not used');
  }
  read(): Promise<Readable> {
    throw new Error('not used');
  }
}

const row = (n: number, client: string): SourceRow => ({
  row: n + 2,
  values: { NoteId: String(n), ClientId: client, NoteDate: '01/02/2023' },
  extra: [{ header: 'Body', value: `note ${n}` }],
});

describe("plan's partitions of clinical notes", () => {
  it('bring all of a client’s notes to one partition, every row once and in file order', async () => {
    const blobs = new MemoryBlobs();
    // a 5 MB table makes five partitions; three rows a part forces several parts per partition
    const p = new Partitioner(
      { runId: 'r1', bucket: 'b' },
      'clinicalNotes',
      'ClinicalNotes.csv',
      5 << 20,
      3,
      blobs,
    );
    const rows = Array.from({ length: 120 }, (_, n) => row(n, `C${(n * 7) % 23}`));
    for (const r of rows) await p.add(r);
    const keys = await p.finish();
    expect(keys.length).toBeGreaterThan(1);
    const home = new Map<string, string>();
    const seen: number[] = [];
    for (const key of keys) {
      const partition = await blobs.getJson('b', key, RowBatch);
      if (!partition) throw new Error(`no partition ${key}`);
      expect(partition.rows).toEqual([]);
      expect(partition.parts?.length).toBeGreaterThan(0);
      let last = -1;
      for (const part of partition.parts ?? []) {
        const batch = await blobs.getJson('b', part, RowBatch);
        if (!batch) throw new Error(`no part ${part}`);
        expect(batch.rows.length).toBeLessThanOrEqual(3);
        for (const r of batch.rows) {
          const client = r.values.ClientId ?? '';
          expect({ client, partition: home.get(client) ?? key }).toEqual({ client, partition: key });
          home.set(client, key);
          expect(r.row).toBeGreaterThan(last);
          last = r.row;
          seen.push(Number(r.values.NoteId));
        }
      }
    }
    expect(seen.sort((a, b) => a - b)).toEqual(rows.map((_, n) => n));
    expect(home.size).toBe(23);
  });
});
