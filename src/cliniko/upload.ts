import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ClinikoBadRequestError, ClinikoTransientError, type RequestInfo } from './errors.js';
import type * as S from './schemas.js';
import type { HttpResponse, RequestBody, Transport } from './transport.js';

export interface AttachmentUpload {
  readonly patientId: S.ClinikoId;
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
  /** Opens the file afresh for each attempt, so a failed upload can be repeated from a stream. */
  readonly open: () => Readable | Promise<Readable>;
  /** At most 255 characters; also the key by which a lost create is found again. */
  readonly description: string;
  readonly waitForProcessing?: boolean;
  readonly processingTimeoutMs?: number;
}

/** Longest a file's storage POST may take (the writer's timeout is sized from it). */
export const UPLOAD_TIMEOUT_MS = 120_000;

/** How the storage POST reaches the network: the client's transport, user agent and timeout. */
export interface StorageConnection {
  readonly transport: Transport;
  readonly userAgent: string;
  /** The client's request timeout; a file upload gets at least 120 s. */
  readonly timeoutMs: number;
  /** Names the request in errors (no Cliniko path: storage is not Cliniko). */
  readonly info: RequestInfo;
}

/**
 * The multipart POST of a file to the presigned storage URL (S3 in Cliniko's case, Cliniko's API
 * documentation on patient attachments): no Cliniko auth, no rate limit; the file is streamed, last
 * (S3 ignores fields after it). Returns the object key storage reports (its XML `<Key>`), else the
 * presigned `key` with the file name.
 * @throws ClinikoTransientError on a network failure or 5xx (a repeated POST overwrites the same
 *   temporary object, so it is always safe to repeat); ClinikoBadRequestError on any other refusal;
 *   Error when the stream's length differs from `upload.size`.
 */
export async function postToStorage(
  presigned: S.AttachmentPresignedPost,
  upload: AttachmentUpload,
  connection: StorageConnection,
): Promise<string> {
  const boundary = `----cliniko-migrate-${randomBytes(12).toString('hex')}`;
  const safeName = upload.filename.replace(/["\r\n]/g, '_');
  let head = '';
  for (const [name, value] of Object.entries(presigned.fields)) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  }
  // S3 ignores every field after the file, so the file goes last.
  head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${safeName}"\r\nContent-Type: ${upload.contentType}\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const headBuf = Buffer.from(head, 'utf8');
  const tailBuf = Buffer.from(tail, 'utf8');
  const fileStream = await upload.open();
  const stream = Readable.from(
    (async function* () {
      yield headBuf;
      let sent = 0;
      for await (const chunk of fileStream) {
        sent += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (sent !== upload.size) throw new Error(`file was ${sent} bytes, expected ${upload.size}`);
      yield tailBuf;
    })(),
  );
  const body: RequestBody = { stream, length: headBuf.length + upload.size + tailBuf.length };
  const { info } = connection;
  let res: HttpResponse;
  try {
    res = await connection.transport({
      method: 'POST',
      url: new URL(presigned.url),
      headers: {
        'Content-Type': `multipart/form-data; boundary=${boundary}`,
        'User-Agent': connection.userAgent,
      },
      body,
      timeoutMs: Math.max(connection.timeoutMs, UPLOAD_TIMEOUT_MS),
    });
  } catch (err) {
    fileStream.destroy();
    // A repeated storage POST overwrites the same temporary object: always safe to repeat.
    throw new ClinikoTransientError(info, err instanceof Error ? err.message : String(err), undefined, {
      cause: err,
    });
  }
  if (res.status >= 500) throw new ClinikoTransientError(info, `storage answered ${res.status}`, res.status);
  if (res.status !== 201 && res.status !== 204 && res.status !== 200) {
    throw new ClinikoBadRequestError(
      info,
      `storage refused the upload (${res.status}): ${res.body.toString('utf8').slice(0, 300)}`,
    );
  }
  const xmlKey = /<Key>([^<]+)<\/Key>/.exec(res.body.toString('utf8'))?.[1];
  const key = xmlKey
    ? decodeXml(xmlKey)
    : (presigned.fields.key ?? '').replace(FILENAME_PLACEHOLDER, upload.filename);
  return key;
}

function decodeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/**
 * `upload_url` is the storage URL followed by the object key, with exactly one slash between. The
 * key is a URL path: each segment is percent-encoded, so a file name holding `%`, `#`, `?`, `+`,
 * spaces or brackets names the object S3 stored, not a fragment, a query or an escape (Cliniko
 * answers `temp_attachment_url is invalid` otherwise: Cliniko's API documentation on patient
 * attachments).
 */
export function joinUploadUrl(url: string, key: string): string {
  const path = key
    .replace(/^\/+/, '')
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
  return `${url.replace(/\/+$/, '')}/${path}`;
}

/** What S3 replaces with the uploaded file's name in a presigned POST's `key`. */
export const FILENAME_PLACEHOLDER = '$' + '{filename}';
