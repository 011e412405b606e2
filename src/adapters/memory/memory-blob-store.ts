import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { z } from 'zod';
import { BoundaryError, parseAt } from '../../core/boundary.js';
import type { BlobStore } from '../../ports/blobs.js';
import type { ByteSource } from '../../source/archive.js';

/**
 * The blobs port in one process (the in-process dry run): objects held in memory as the bytes S3
 * would hold (JSON is stored as its text and parsed by the reader's schema, as S3BlobStore does,
 * so a value that would not survive S3 does not survive here), and files on disk served under a
 * key (the export, read by byte ranges, never copied). The bucket is ignored: a process holds one
 * run. Lifetime: the run's; nothing is written to disk.
 */
export class MemoryBlobStore implements BlobStore {
  // Text is kept as UTF-8, as S3 keeps it: a JavaScript string of one character beyond Latin-1
  // takes two bytes a character, which doubled the memory of batches of names with macrons.
  private readonly objects = new Map<
    string,
    { body: Buffer | Uint8Array; text: boolean; contentType: string }
  >();
  private readonly files = new Map<string, string>();
  private readonly tags = new Map<string, Record<string, string>>();

  /** Serves the file at `path` (a local export) under `key`, read where it lies. */
  serveFile(key: string, path: string): void {
    this.files.set(key, path);
  }

  /** An object's text as it was put (report files), undefined when there is none or it is bytes. */
  text(key: string): string | undefined {
    const object = this.objects.get(key);
    if (!object?.text) return undefined;
    const { body } = object;
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  }

  /** The tags put on an object (what a live run's end would mark), for tests. */
  tagsOf(key: string): Record<string, string> | undefined {
    return this.tags.get(key);
  }

  async getText(_bucket: string, key: string): Promise<string | undefined> {
    return this.text(key);
  }

  async getJson<S extends z.ZodType>(
    _bucket: string,
    key: string,
    schema: S,
  ): Promise<z.output<S> | undefined> {
    const text = this.text(key);
    if (text === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new BoundaryError(`stored object ${key}`, [{ path: '', message: 'is not JSON' }]);
    }
    return parseAt(`stored object ${key}`, schema, value);
  }

  async putJson(bucket: string, key: string, value: unknown): Promise<void> {
    await this.putText(bucket, key, JSON.stringify(value), 'application/json');
  }

  async putText(_bucket: string, key: string, text: string, contentType: string): Promise<void> {
    this.objects.set(key, { body: Buffer.from(text, 'utf8'), text: true, contentType });
  }

  async putBytes(_bucket: string, key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    this.objects.set(key, { body: bytes, text: false, contentType });
  }

  async byteSource(_bucket: string, key: string): Promise<ByteSource> {
    const path = this.files.get(key);
    if (path) {
      const size = (await stat(path)).size;
      return {
        name: basename(key),
        size,
        readRange(start: number, end: number): Readable {
          if (end <= start) {
            const empty = new PassThrough();
            empty.end();
            return empty;
          }
          // createReadStream's end is inclusive; the port's is exclusive
          return createReadStream(path, { start, end: end - 1 });
        },
      };
    }
    const bytes = this.bytesOf(key);
    return {
      name: basename(key),
      size: bytes.length,
      readRange: (start, end) => Readable.from([bytes.subarray(start, Math.max(start, end))]),
    };
  }

  async tag(_bucket: string, key: string, tags: Record<string, string>): Promise<void> {
    this.tags.set(key, { ...this.tags.get(key), ...tags });
  }

  async read(_bucket: string, key: string): Promise<Readable> {
    const path = this.files.get(key);
    return path ? createReadStream(path) : Readable.from([this.bytesOf(key)]);
  }

  private bytesOf(key: string): Uint8Array {
    const body = this.objects.get(key)?.body;
    // S3 answers NoSuchKey: a caller reading an object that is not there is a bug of the run
    if (body === undefined) throw new Error(`no object ${key}`);
    return body;
  }
}
