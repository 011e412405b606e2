import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Emulators, startEmulators } from '../../apps/local/emulators.js';
import { parseRange } from '../../apps/local/s3-front.js';
import { PART_BYTES, S3BlobStore } from '../../src/adapters/aws/s3-blob-store.js';
import { openZipSource } from '../../src/source/archive.js';

/**
 * The local S3 front (apps/local/s3-front.ts): an object served from a file on disk answers the
 * real S3 client as S3 would, and everything else reaches fauxqs unchanged.
 */
let emulators: Emulators;
let s3: S3Client;
let dir: string;
const bucket = 'front-test';
const fileBytes = randomBytes(3 * 1024 * 1024 + 17);

beforeAll(async () => {
  emulators = await startEmulators();
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: emulators.env.AWS_ENDPOINT_URL_S3,
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  dir = mkdtempSync(join(tmpdir(), 's3-front-'));
  writeFileSync(join(dir, 'export.zip'), fileBytes);
  emulators.serveFile(bucket, 'exports/c1/export.zip', join(dir, 'export.zip'));
});
afterAll(async () => {
  await emulators.stop();
  rmSync(dir, { recursive: true, force: true });
});

const bytesOf = async (body: unknown) => Buffer.concat(await (body as Readable).toArray());

describe('an object served from disk', () => {
  it('answers HeadObject with its size, an ETag and Last-Modified', async () => {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'exports/c1/export.zip' }));
    expect(head.ContentLength).toBe(fileBytes.length);
    expect(head.ETag).toMatch(/^"[0-9a-f]{32}-1"$/);
    expect(head.LastModified).toBeInstanceOf(Date);
    expect(head.ContentType).toBe('application/zip');
  });

  it('answers GetObject whole and by byte range, with the bytes of the file', async () => {
    const whole = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'exports/c1/export.zip' }));
    expect((await bytesOf(whole.Body)).equals(fileBytes)).toBe(true);
    const part = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'exports/c1/export.zip', Range: 'bytes=1000-1999' }),
    );
    expect(part.ContentRange).toBe(`bytes 1000-1999/${fileBytes.length}`);
    expect(part.ContentLength).toBe(1000);
    expect((await bytesOf(part.Body)).equals(fileBytes.subarray(1000, 2000))).toBe(true);
    const tail = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'exports/c1/export.zip', Range: 'bytes=-10' }),
    );
    expect((await bytesOf(tail.Body)).equals(fileBytes.subarray(-10))).toBe(true);
  });

  it("refuses a range past the end and a failed If-Match with S3's error codes", async () => {
    const past = await s3
      .send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: 'exports/c1/export.zip',
          Range: `bytes=${fileBytes.length}-`,
        }),
      )
      .catch((e: unknown) => e);
    expect(past).toMatchObject({ name: 'InvalidRange', $metadata: { httpStatusCode: 416 } });
    const stale = await s3
      .send(new GetObjectCommand({ Bucket: bucket, Key: 'exports/c1/export.zip', IfMatch: '"other"' }))
      .catch((e: unknown) => e);
    expect(stale).toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
  });

  it('is read by the zip reader through the blob store as on AWS', async () => {
    // not a zip: the reader says so by the name of the object, having read its end by range
    const source = await new S3BlobStore(s3).byteSource(bucket, 'exports/c1/export.zip');
    expect(source.size).toBe(fileBytes.length);
    await expect(openZipSource(source)).rejects.toThrow('export.zip is not a readable zip archive');
  });

  it('is replaced by a PutObject of its key, which then lives in the emulator', async () => {
    emulators.serveFile(bucket, 'exports/c1/replaced.zip', join(dir, 'export.zip'));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'exports/c1/replaced.zip', Body: 'new' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'exports/c1/replaced.zip' }));
    expect(await got.Body?.transformToString()).toBe('new');
  });
});

describe('every other request', () => {
  it('reaches fauxqs unchanged: put, get, missing keys', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'runs/r1/batch.json', Body: '{"a":1}' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'runs/r1/batch.json' }));
    expect(await got.Body?.transformToString()).toBe('{"a":1}');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'runs/r1/batch.json' }));
    const gone = await s3
      .send(new GetObjectCommand({ Bucket: bucket, Key: 'runs/r1/batch.json' }))
      .catch((e: unknown) => e);
    expect(gone).toMatchObject({ name: 'NoSuchKey' });
  });

  it('puts a body larger than fauxqs takes in one request in parts, and reads it back whole', async () => {
    const big = randomBytes(2 * PART_BYTES + 1234);
    const blobs = new S3BlobStore(s3);
    await blobs.putBytes(bucket, 'runs/r1/big.pdf', big, 'application/pdf');
    const back = await bytesOf(await blobs.read(bucket, 'runs/r1/big.pdf'));
    expect(back.length).toBe(big.length);
    expect(back.equals(big)).toBe(true);
  });
});

describe('parseRange', () => {
  it('reads the single ranges S3 accepts and says which it cannot satisfy', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-200', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-5', 100)).toEqual({ start: 95, end: 99 });
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-1,5-6', 100)).toBeUndefined();
  });
});
