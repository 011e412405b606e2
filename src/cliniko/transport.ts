import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * A minimal HTTP transport over node:http. We own it rather than use fetch because the client must
 * know whether a failed request's body had already left this machine: a reset before that is safe
 * to repeat, a reset after it may have created the record.
 */
export type RequestBody = Buffer | { readonly stream: Readable; readonly length: number };

export interface HttpRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body?: RequestBody;
  readonly timeoutMs: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export class TransportError extends Error {
  override name = 'TransportError';
  constructor(
    message: string,
    /** True once the whole request, body included, was handed to the network. */
    readonly bodySent: boolean,
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 32 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 32, minVersion: 'TLSv1.2' });

const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export const nodeTransport: Transport = (request) =>
  new Promise<HttpResponse>((resolve, reject) => {
    const isHttps = request.url.protocol === 'https:';
    const lib = isHttps ? https : http;
    const headers: Record<string, string> = { ...request.headers };
    if (request.body) {
      headers['Content-Length'] = String(
        Buffer.isBuffer(request.body) ? request.body.length : request.body.length,
      );
    }
    let bodySent = false;
    let settled = false;
    const fail = (error: TransportError): void => {
      if (settled) return;
      settled = true;
      reject(error);
    };

    const req = lib.request(
      request.url,
      { method: request.method, headers, agent: isHttps ? httpsAgent : httpAgent },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            res.destroy(new Error('response too large'));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('error', (err) =>
          fail(new TransportError(`response interrupted: ${err.message}`, true, 'ERESPONSE', { cause: err })),
        );
        res.on('aborted', () => fail(new TransportError('response aborted', true, 'ECONNRESET')));
      },
    );
    req.on('finish', () => {
      bodySent = true;
    });
    req.setTimeout(request.timeoutMs, () => {
      req.destroy(
        Object.assign(new Error(`no answer within ${request.timeoutMs} ms`), { code: 'ETIMEDOUT' }),
      );
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      fail(new TransportError(err.message, bodySent, err.code ?? 'EREQUEST', { cause: err }));
    });

    const body = request.body;
    if (!body) {
      req.end();
    } else if (Buffer.isBuffer(body)) {
      req.end(body);
    } else {
      pipeline(body.stream, req).catch((err: Error) => {
        req.destroy(err);
      });
    }
  });
