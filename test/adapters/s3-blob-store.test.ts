import { GetObjectCommand, type GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { S3BlobStore } from '../../src/adapters/aws/s3-blob-store.js';
import { ApprovalMarker } from '../../src/core/approval.js';
import { BoundaryError } from '../../src/core/boundary.js';
import { RowBatch } from '../../src/core/row-batch.js';
import type { SourceRow } from '../../src/source/csv.js';

/** JSON read back from the bucket is parsed by its schema where it enters (issue 12). */
const s3 = mockClient(S3Client);
const body = (text: string) =>
  ({ Body: { transformToString: async () => text } }) as unknown as GetObjectCommandOutput;
afterEach(() => {
  s3.reset();
});

describe('S3BlobStore.getJson', () => {
  const store = new S3BlobStore(new S3Client({ region: 'ap-southeast-2' }));

  it('returns a row batch that fits its schema', async () => {
    const batch = {
      table: 'Clients',
      file: 'Clients.csv',
      rows: [{ row: 2, values: { ClientId: 'C1' }, extra: [] }],
    };
    s3.on(GetObjectCommand).resolves(body(JSON.stringify(batch)));
    await expect(store.getJson('b', 'work/r1/batches/clients-0.json', RowBatch)).resolves.toEqual(batch);
  });

  it('refuses a malformed row batch, naming the object and the field but no value', async () => {
    s3.on(GetObjectCommand).resolves(
      body(
        JSON.stringify({
          table: 'Clients',
          file: 'Clients.csv',
          rows: [{ row: 2, values: { ClientId: 42 }, extra: [] }],
        }),
      ),
    );
    const refused = store.getJson('b', 'work/r1/batches/clients-0.json', RowBatch);
    await expect(refused).rejects.toThrow(BoundaryError);
    await expect(refused).rejects.toThrow(
      /^S3 object work\/r1\/batches\/clients-0\.json refused: rows\.0\.values\.ClientId: /,
    );
    await expect(refused).rejects.not.toThrow(/42/);
  });

  it('refuses an approval marker whose fields have the wrong types', async () => {
    s3.on(GetObjectCommand).resolves(body('{"runId": 7}'));
    await expect(store.getJson('b', 'exports/c/x.zip.approved', ApprovalMarker)).rejects.toThrow(
      /exports\/c\/x\.zip\.approved refused: runId:/,
    );
  });

  it('refuses an object that is not JSON, naming the object', async () => {
    s3.on(GetObjectCommand).resolves(body('{"table": "Clients", "rows": ['));
    await expect(store.getJson('b', 'work/r1/batches/clients-0.json', RowBatch)).rejects.toThrow(
      /^S3 object work\/r1\/batches\/clients-0\.json refused: is not JSON$/,
    );
  });

  it('answers undefined for an object that is not there', async () => {
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('gone'), { name: 'NoSuchKey' }));
    await expect(store.getJson('b', 'work/r1/none.json', RowBatch)).resolves.toBeUndefined();
  });
});

describe('RowBatch', () => {
  it("keeps every field of the reader's rows (a field the schema lacked would be dropped on the way to the mapper)", () => {
    const row: Required<SourceRow> = {
      row: 3,
      values: { NoteId: 'N2' },
      extra: [{ header: 'Subjective', value: 'said "ok' }],
      fieldCountMismatch: 9,
      headerFieldCount: 8,
      strayQuoteFields: ['Subjective'],
      unterminatedQuote: { field: 'Plan', lines: 4 },
      columnConflicts: [{ field: 'Email', kept: 'a@example.com', others: ['b@example.com'] }],
      cleanedFields: [{ field: 'Email', removed: ['U+200B zero-width space'], replaced: [] }],
    };
    const batch = { table: 'ClinicalNotes', file: 'ClinicalNotes.csv', rows: [row] };
    expect(RowBatch.parse(JSON.parse(JSON.stringify(batch)))).toEqual(batch);
  });
});
