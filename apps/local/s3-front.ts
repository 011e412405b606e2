import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';

/**
 * A small S3 (REST, path-style) front to the local S3 emulator. Objects registered with
 * {@link S3Front.serveFile} (the export) are answered from their file on disk, HeadObject and
 * GetObject with Range, as S3 answers them; every other request is forwarded unchanged, streamed
 * both ways, to fauxqs. fauxqs keeps every object in memory and refuses bodies over 11 MiB
 * (node_modules/fauxqs/dist/app.js `bodyLimit`), so an export of gigabytes could neither be put
 * into it nor held; read in place, the export costs no memory whatever its size, and the handlers
 * read it with the real S3 client exactly as on AWS (src/adapters/aws/s3-blob-store.ts).
 */
export interface S3Front {
  /** `http://127.0.0.1:<port>`: what AWS_ENDPOINT_URL_S3 points to. */
  readonly url: string;
  /**
   * Answers HeadObject and GetObject of `bucket`/`key` from the file at `path`, read at each
   * request (never copied, never held). A later PutObject or DeleteObject of the key ends it (the
   * request then goes to fauxqs), as a new object replaces the old on S3.
   */
  serveFile(bucket: string, key: string, path: string): void;
  close(): Promise<void>;
}

/** One object answered from disk: what HeadObject says of it. */
interface FileObject {
  readonly size: number;
  readonly etag: string;
  readonly lastModified: Date;
  readonly contentType: string;
}

const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Sub-resources that make a GET or HEAD something other than GetObject/HeadObject (?acl, ?tagging…). */
const OBJECT_READ_PARAMS = new Set(['x-id', 'partNumber', 'response-content-type', 'versionId']);

/**
 * What S3 says of a file it stores: size and modification time from the file; an ETag in the form
 * S3 gives an object uploaded in parts (`"<hex>-<parts>"`, not an MD5 of the content, which S3
 * does not promise for such objects either), stable while the file is unchanged. Parts are
 * counted in 8 MiB, the SDK's default part size.
 */
async function describeFile(path: string): Promise<FileObject> {
  const s = await stat(path);
  const digest = createHash('md5').update(`${path}:${s.size}:${s.mtimeMs}:${s.ino}`).digest('hex');
  return {
    size: s.size,
    etag: `"${digest}-${Math.max(1, Math.ceil(s.size / (8 * 1024 ** 2)))}"`,
    lastModified: new Date(Math.floor(s.mtimeMs / 1000) * 1000),
    contentType: path.toLowerCase().endsWith('.zip') ? 'application/zip' : 'application/octet-stream',
  };
}

/**
 * A single byte range as RFC 9110 §14.1.2 and S3 read it: `bytes=a-b`, `bytes=a-`, `bytes=-n`;
 * inclusive `[start, end]`. `undefined`: not a single byte range (S3 then answers the whole
 * object); `'unsatisfiable'`: starts past the end (S3's 416 InvalidRange).
 */
export function parseRange(
  header: string,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, from = '', to = ''] = match;
  if (from === '' && to === '') return undefined;
  if (from === '') {
    const suffix = Number(to);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(from);
  if (start >= size) return 'unsatisfiable';
  const end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  if (end < start) return undefined;
  return { start, end };
}

function requestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

/** An error as S3 answers it: XML body for GET, status and headers only for HEAD. */
function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  resource: string,
): void {
  const id = requestId();
  res.statusCode = status;
  res.setHeader('x-amz-request-id', id);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  res.setHeader('Content-Type', 'application/xml');
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><Resource>${escapeXml(resource)}</Resource><RequestId>${id}</RequestId></Error>`,
  );
}

/** Conditional headers as S3 applies them (If-Match and If-Unmodified-Since first: 412; then 304). */
function precondition(req: IncomingMessage, obj: FileObject): 412 | 304 | undefined {
  const ifMatch = req.headers['if-match'];
  if (ifMatch && ifMatch !== '*' && !ifMatch.split(',').some((e) => e.trim() === obj.etag)) return 412;
  const unmodified = req.headers['if-unmodified-since'];
  if (!ifMatch && unmodified && obj.lastModified > new Date(unmodified)) return 412;
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch && (ifNoneMatch === '*' || ifNoneMatch.split(',').some((e) => e.trim() === obj.etag)))
    return 304;
  const modified = req.headers['if-modified-since'];
  if (!ifNoneMatch && modified && obj.lastModified <= new Date(modified)) return 304;
  return undefined;
}

async function answerFromFile(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  resource: string,
): Promise<void> {
  let obj: FileObject;
  try {
    obj = await describeFile(path);
  } catch {
    // the file went away under the run: as S3 says of a deleted object
    sendError(req, res, 404, 'NoSuchKey', 'The specified key does not exist.', resource);
    return;
  }
  const condition = precondition(req, obj);
  if (condition === 412) {
    sendError(
      req,
      res,
      412,
      'PreconditionFailed',
      'At least one of the pre-conditions you specified did not hold',
      resource,
    );
    return;
  }
  res.setHeader('x-amz-request-id', requestId());
  res.setHeader('ETag', obj.etag);
  res.setHeader('Last-Modified', obj.lastModified.toUTCString());
  res.setHeader('Accept-Ranges', 'bytes');
  if (condition === 304) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.setHeader('Content-Type', obj.contentType);
  const rangeHeader = req.headers.range;
  const range = rangeHeader ? parseRange(rangeHeader, obj.size) : undefined;
  if (range === 'unsatisfiable') {
    res.setHeader('Content-Range', `bytes */${obj.size}`);
    sendError(req, res, 416, 'InvalidRange', 'The requested range is not satisfiable', resource);
    return;
  }
  const { start, end } = range ?? { start: 0, end: obj.size - 1 };
  res.statusCode = range ? 206 : 200;
  if (range) res.setHeader('Content-Range', `bytes ${start}-${end}/${obj.size}`);
  res.setHeader('Content-Length', String(Math.max(0, end - start + 1)));
  if (req.method === 'HEAD' || end < start) {
    res.end();
    return;
  }
  // streamed with back-pressure: at most a read buffer (64 KiB) per request is in memory
  await pipeline(createReadStream(path, { start, end }), res).catch(() => res.destroy());
}

/** Forwards a request to fauxqs as it came, streamed both ways. */
function forward(req: IncomingMessage, res: ServerResponse, upstreamPort: number): void {
  const upstream = request(
    {
      host: '127.0.0.1',
      port: upstreamPort,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: `127.0.0.1:${upstreamPort}` },
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', (err) => {
    // fauxqs is gone (its thread failed): S3's own answer for a service that cannot answer, which
    // the SDK retries and then reports as ServiceUnavailable.
    if (res.headersSent) res.destroy(err);
    else
      sendError(
        req,
        res,
        503,
        'ServiceUnavailable',
        `the local S3 emulator does not answer (${err.message})`,
        req.url ?? '/',
      );
  });
  req.pipe(upstream);
}

/**
 * Starts the front on a free loopback port, forwarding to fauxqs on `upstreamPort` (see
 * {@link S3Front}).
 */
export async function startS3Front(upstreamPort: number): Promise<S3Front> {
  const files = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // path-style: /<bucket>/<key>; the SDK encodes each key segment
    let resource: string;
    try {
      resource = decodeURIComponent(url.pathname).replace(/^\//, '');
    } catch {
      // not a key this front serves (malformed escapes): fauxqs answers it as S3 would
      forward(req, res, upstreamPort);
      return;
    }
    const path = files.get(resource);
    if (path && (req.method === 'PUT' || req.method === 'DELETE')) files.delete(resource);
    const plainRead =
      (req.method === 'GET' || req.method === 'HEAD') &&
      [...url.searchParams.keys()].every((k) => OBJECT_READ_PARAMS.has(k));
    if (path && plainRead) {
      answerFromFile(req, res, path, `/${resource}`).catch((err: Error) => res.destroy(err));
      return;
    }
    forward(req, res, upstreamPort);
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    serveFile: (bucket, key, path) => {
      files.set(`${bucket}/${key}`, path);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
