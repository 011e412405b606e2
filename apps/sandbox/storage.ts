import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { FILENAME_PLACEHOLDER } from '../../src/cliniko/client.js';

export const BUCKET = 'cliniko-sandbox-uploads';

/** A file POSTed to storage and not yet turned into an attachment. */
export interface TempObject {
  readonly path: string;
  readonly size: number;
  readonly contentType: string;
  readonly filename: string;
}

/**
 * The S3-style storage behind Cliniko's attachment flow (Cliniko's API documentation on patient
 * attachments): presigned POST policies signed here, files POSTed to `/s3/{bucket}/` kept as
 * temporary objects in a temporary folder until `POST /patient_attachments` names them by
 * `upload_url`.
 */
export class UploadStorage {
  readonly dir = mkdtempSync(join(tmpdir(), 'cliniko-sandbox-'));
  readonly tempObjects = new Map<string, TempObject>();
  private readonly signingSecret = randomBytes(32);

  /** @param maxBytes the largest file a presigned policy allows */
  constructor(readonly maxBytes: number) {}

  /** The storage URL as a client on `host` reaches it: `http://{host}/s3/{bucket}`. */
  url(host: string | undefined): string {
    return `http://${host}/s3/${BUCKET}`;
  }

  /**
   * A presigned POST (`{url, fields}`, Cliniko's API documentation on patient attachments) for keys
   * under `prefix`: a policy valid an hour, limited to `maxBytes`, with `key` ending in S3's
   * file-name placeholder.
   */
  presignedPost(prefix: string, host: string | undefined) {
    const policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(Date.now() + 3_600_000).toISOString(),
        conditions: [
          { bucket: BUCKET },
          ['starts-with', '$key', prefix],
          { acl: 'private' },
          { success_action_status: '201' },
          ['content-length-range', 0, this.maxBytes],
        ],
      }),
    ).toString('base64');
    const date = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    return {
      url: `${this.url(host)}/`,
      fields: {
        key: `${prefix}${FILENAME_PLACEHOLDER}`,
        policy,
        'x-amz-credential': `SANDBOX/${date.slice(0, 8)}/local/s3/aws4_request`,
        'x-amz-algorithm': 'AWS4-HMAC-SHA256',
        'x-amz-date': date,
        'x-amz-signature': this.sign(policy),
        success_action_status: '201',
        acl: 'private',
      },
    };
  }

  /** The policy's signature (HMAC-SHA256 under this sandbox's secret, hex). */
  sign(policy: string): string {
    return createHmac('sha256', this.signingSecret).update(policy).digest('hex');
  }

  /** Why S3 would refuse a POST with these form fields (signature, expiry, key prefix), or `undefined`. */
  checkPolicy(fields: Record<string, string>): string | undefined {
    const policy = fields.policy;
    const signature = fields['x-amz-signature'] ?? '';
    if (!policy) return 'Missing policy';
    const expected = Buffer.from(this.sign(policy));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given))
      return 'The request signature we calculated does not match the signature you provided';
    const doc = JSON.parse(Buffer.from(policy, 'base64').toString('utf8')) as {
      expiration: string;
      conditions: unknown[];
    };
    if (Date.parse(doc.expiration) < Date.now()) return 'Invalid according to Policy: Policy expired';
    for (const c of doc.conditions) {
      if (
        Array.isArray(c) &&
        c[0] === 'starts-with' &&
        c[1] === '$key' &&
        !(fields.key ?? '').startsWith(String(c[2]))
      ) {
        return 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key"]';
      }
    }
    return undefined;
  }

  /** Deletes every stored file (the sandbox closes). */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Registers the storage endpoint `POST /s3/{bucket}/` (multipart, no Cliniko auth, as with real
 * S3): checks the policy, stores the file as a temporary object and answers S3's XML
 * `PostResponse` (201 when `success_action_status` asks for it, else 204), or an XML `Error`.
 */
export async function registerStorage(app: FastifyInstance, storage: UploadStorage): Promise<void> {
  await app.register(async (scope) => {
    await scope.register(multipart, {
      limits: { fileSize: storage.maxBytes, fields: 50, files: 1 },
    });
    scope.post(`/s3/${BUCKET}/`, async (req, reply) => {
      const fields: Record<string, string> = {};
      const xml = (status: number, code: string, message: string) =>
        reply
          .code(status)
          .header('Content-Type', 'application/xml')
          .send(
            `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
          );
      if (!req.isMultipart()) return xml(400, 'InvalidRequest', 'Expected multipart/form-data');
      for await (const part of req.parts()) {
        if (part.type === 'field') {
          fields[part.fieldname] = String(part.value);
          continue;
        }
        if (part.fieldname !== 'file') {
          part.file.resume();
          return xml(400, 'InvalidArgument', 'The file must be sent as the field "file"');
        }
        const policyError = storage.checkPolicy(fields);
        if (policyError) {
          part.file.resume();
          return xml(403, 'AccessDenied', policyError);
        }
        const filename = part.filename || 'file';
        const key = (fields.key ?? '').replace(FILENAME_PLACEHOLDER, filename);
        const path = join(storage.dir, `temp-${randomBytes(8).toString('hex')}`);
        await pipeline(part.file, createWriteStream(path));
        if (part.file.truncated) {
          rmSync(path, { force: true });
          return xml(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
        }
        const size = statSync(path).size;
        storage.tempObjects.set(key, {
          path,
          size,
          contentType: fields['Content-Type'] ?? part.mimetype ?? 'application/octet-stream',
          filename: basename(key),
        });
        const location = `http://${req.headers.host}/s3/${BUCKET}/${key.split('/').map(encodeURIComponent).join('/')}`;
        return reply
          .code(Number(fields.success_action_status) === 201 ? 201 : 204)
          .header('Content-Type', 'application/xml')
          .send(
            `<?xml version="1.0" encoding="UTF-8"?><PostResponse><Location>${escapeXml(location)}</Location><Bucket>${BUCKET}</Bucket><Key>${escapeXml(key)}</Key><ETag>"${randomBytes(16).toString('hex')}"</ETag></PostResponse>`,
          );
      }
      return xml(400, 'InvalidArgument', 'POST requires exactly one file upload per request.');
    });
  });
}

/** The object key inside an `upload_url`: accepts `url/key`, `url//key` and a URL-encoded key. */
export function uploadKey(uploadUrl: string, storageBase: string): string | undefined {
  if (!uploadUrl.startsWith(storageBase)) return undefined;
  const rest = uploadUrl.slice(storageBase.length).replace(/^\/+/, '');
  try {
    return decodeURIComponent(rest);
  } catch {
    return undefined;
  }
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
