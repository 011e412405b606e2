import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { ByteSource } from '../source/archive.js';

/** The blobs port: the run's bucket (the export, working files, reports). */
export interface BlobStore {
  /**
   * A JSON object of the bucket parsed by `schema` (undefined when there is none). Throws
   * BoundaryError naming the key and the fields at fault when it does not fit.
   */
  getJson<S extends z.ZodType>(bucket: string, key: string, schema: S): Promise<z.output<S> | undefined>;
  /**
   * An object of the bucket as UTF-8 text (undefined when there is none), for a file whose own
   * parser names its faults by line and column (`migration.json`: parseConfigText).
   */
  getText(bucket: string, key: string): Promise<string | undefined>;
  putJson(bucket: string, key: string, value: unknown): Promise<void>;
  putText(bucket: string, key: string, text: string, contentType: string): Promise<void>;
  /** A file the run makes (a notes PDF), stored for a writer to upload. */
  putBytes(bucket: string, key: string, bytes: Uint8Array, contentType: string): Promise<void>;
  byteSource(bucket: string, key: string): Promise<ByteSource>;
  /** Tags an object (an export whose live run finished, for the bucket's lifecycle). */
  tag(bucket: string, key: string, tags: Record<string, string>): Promise<void>;
  /** Streams an object (sha256, documents). */
  read(bucket: string, key: string): Promise<Readable>;
}
