import { PassThrough, type Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { z } from 'zod';
import { BoundaryError, parseAt } from '../../core/boundary.js';
import type { BlobStore } from '../../ports/blobs.js';
import type { ByteSource } from '../../source/archive.js';

/**
 * Bodies above this many bytes are put in parts of this size (8 MiB, the SDK's own default part
 * size; S3's minimum part is 5 MiB). One PutObject would do on S3 (up to 5 GB), but not on an
 * S3-compatible store with a smaller request limit (the local emulator's is 11 MiB), and a large
 * report or entry list must not end a run there.
 */
export const PART_BYTES = 8 * 1024 ** 2;

/** The bucket as the pipeline uses it: JSON working files, report files, and exports read by range. */
export class S3BlobStore implements BlobStore {
  constructor(
    private readonly s3: S3Client = new S3Client({
      forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true',
    }),
  ) {}

  async getText(bucket: string, key: string): Promise<string | undefined> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (await res.Body?.transformToString()) ?? '';
    } catch (err) {
      if (
        (err as { name?: string }).name === 'NoSuchKey' ||
        (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
      )
        return undefined;
      throw err;
    }
  }

  async getJson<S extends z.ZodType>(
    bucket: string,
    key: string,
    schema: S,
  ): Promise<z.output<S> | undefined> {
    const text = await this.getText(bucket, key);
    if (text === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // A truncated or hand-made object: refused like any other misfit, naming the object only.
      throw new BoundaryError(`S3 object ${key}`, [{ path: '', message: 'is not JSON' }]);
    }
    return parseAt(`S3 object ${key}`, schema, value);
  }

  async putJson(bucket: string, key: string, value: unknown): Promise<void> {
    await this.putText(bucket, key, JSON.stringify(value), 'application/json');
  }

  async putText(bucket: string, key: string, text: string, contentType: string): Promise<void> {
    if (text.length * 3 > PART_BYTES) {
      await this.putBytes(bucket, key, Buffer.from(text, 'utf8'), contentType);
      return;
    }
    await this.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: contentType }),
    );
  }

  async putBytes(bucket: string, key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    if (bytes.byteLength > PART_BYTES) {
      await this.putInParts(bucket, key, bytes, contentType);
      return;
    }
    await this.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentType: contentType }),
    );
  }

  /** A multipart upload of `bytes` in {@link PART_BYTES} parts; aborted (no parts left billed) on failure. */
  private async putInParts(bucket: string, key: string, bytes: Uint8Array, contentType: string) {
    const { UploadId } = await this.s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }),
    );
    try {
      const parts: { ETag: string; PartNumber: number }[] = [];
      for (let at = 0, n = 1; at < bytes.byteLength; at += PART_BYTES, n++) {
        const part = await this.s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId,
            PartNumber: n,
            Body: bytes.subarray(at, at + PART_BYTES),
          }),
        );
        parts.push({ ETag: part.ETag ?? '', PartNumber: n });
      }
      await this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (err) {
      await this.s3
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }))
        .catch(() => undefined);
      throw err;
    }
  }

  async tag(bucket: string, key: string, tags: Record<string, string>): Promise<void> {
    // The local S3 emulator has no object tagging (it would store the request as the object);
    // locally the CLI removes working files itself.
    if (process.env.S3_OBJECT_TAGGING === 'off') return;
    await this.s3.send(
      new PutObjectTaggingCommand({
        Bucket: bucket,
        Key: key,
        Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      }),
    );
  }

  async read(bucket: string, key: string): Promise<Readable> {
    const res = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return res.Body as Readable;
  }

  async byteSource(bucket: string, key: string): Promise<ByteSource> {
    const head = await this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const s3 = this.s3;
    return {
      name: key.split('/').pop() ?? key,
      size: Number(head.ContentLength ?? 0),
      readRange(start: number, end: number): Readable {
        // The zip reader wants a stream at once; the range request fills it when it answers.
        const out = new PassThrough();
        if (end <= start) {
          out.end();
          return out;
        }
        s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }))
          .then((res) => (res.Body as Readable).pipe(out))
          .catch((err: Error) => out.destroy(err));
        return out;
      },
    };
  }
}
