import { Readable } from 'node:stream';
import type { BlobStore } from '../../src/ports/blobs.js';

/**
 * A BlobStore over a map of objects by key (the bucket is ignored), for the mappers' unit tests:
 * JSON is parsed by the caller's schema as S3's adapter does; an object held as bytes (an export's
 * zip) is read by byte range as from S3.
 */
export function memoryBlobs(objects: Map<string, unknown>): BlobStore {
  return {
    getJson: async (_b, key, schema) => {
      const value = objects.get(key);
      return value === undefined ? undefined : schema.parse(value);
    },
    getText: async (_b, key) => {
      const value = objects.get(key);
      return value === undefined || typeof value === 'string' ? value : JSON.stringify(value);
    },
    putJson: async (_b, key, value) => void objects.set(key, value),
    putText: async (_b, key, text) => void objects.set(key, text),
    putBytes: async (_b, key, bytes) => void objects.set(key, bytes),
    tag: async () => undefined,
    byteSource: async (_b, key) => {
      const bytes = objects.get(key);
      if (!Buffer.isBuffer(bytes)) throw new Error(`no object ${key} held as bytes`);
      return {
        name: key,
        size: bytes.length,
        readRange: (start: number, end: number) => Readable.from([bytes.subarray(start, end)]),
      };
    },
    read: (): Promise<Readable> => Promise.reject(new Error('not used')),
  };
}
