import { randomBytes } from 'node:crypto';
import { createReadStream, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { apiBase, type SandboxContext, validationFailed } from '../context.js';
import { present, RESOURCES, type ResourceSpec } from '../resources.js';
import { uploadKey } from '../storage.js';

/**
 * Patient attachments (Cliniko's API documentation on patient attachments): the presigned POST for
 * a patient, the attachment created from an uploaded temporary object (processed after
 * `attachmentProcessingMs`), its content.
 */
export function attachmentRoutes(api: FastifyInstance, ctx: SandboxContext): void {
  const { state } = ctx;
  // attachments: presign, create from an uploaded temp object, content
  api.get<{ Params: { id: string } }>('/patients/:id/attachment_presigned_post', async (req, reply) => {
    if (!state.get('patients', req.params.id)) return reply.code(404).send({ message: 'Not found' });
    const prefix = `sandbox/patients/${req.params.id}/attachments/temp/${randomBytes(8).toString('hex')}/`;
    return ctx.storage.presignedPost(prefix, req.headers.host);
  });

  const attachments = RESOURCES.patient_attachments as ResourceSpec;
  api.post<{ Body: Record<string, unknown> }>('/patient_attachments', async (req, reply) => {
    const body = req.body ?? {};
    const errors: Record<string, string> = {};
    const patientId = body.patient_id == null ? undefined : String(body.patient_id);
    if (!patientId) errors.patient = "can't be blank";
    else if (!state.get('patients', patientId)) errors.patient = 'must exist';
    const description = body.description;
    if (description != null && (typeof description !== 'string' || [...description].length > 255)) {
      errors.description = 'is too long (maximum is 255 characters)';
    }
    const key =
      typeof body.upload_url === 'string'
        ? uploadKey(body.upload_url, ctx.storage.url(req.headers.host))
        : undefined;
    const object = key ? ctx.storage.tempObjects.get(key) : undefined;
    if (!object) errors.temp_attachment_url = 'is invalid';
    if (Object.keys(errors).length || !object || !key) return validationFailed(reply, errors);
    const rec = state.insert('patient_attachments', {
      patient_id: patientId,
      user_id: req.ctx.userId,
      description: description ?? null,
      filename: null,
      content_type: null,
      size: null,
      processing_completed: false,
      processed_at: null,
      pinned_at: null,
      archived_at: null,
      storage_path: null,
    });
    ctx.storage.tempObjects.delete(key);
    ctx.later(() => {
      const stored = join(ctx.storage.dir, `attachment-${rec.id}`);
      renameSync(object.path, stored);
      state.update('patient_attachments', rec.id, {
        filename: object.filename,
        content_type: object.contentType,
        size: object.size,
        processing_completed: true,
        processed_at: state.now(),
        storage_path: stored,
      });
      ctx.changed();
    }, ctx.options.attachmentProcessingMs ?? 100);
    return ctx.commit(req, reply, 201, present(attachments, rec, apiBase(req)));
  });
  api.get<{ Params: { id: string } }>('/patient_attachments/:id/content', async (req, reply) => {
    const rec = state.get('patient_attachments', req.params.id);
    if (!rec?.storage_path) return reply.code(404).send({ message: 'Not found' });
    reply.header('Content-Type', String(rec.content_type ?? 'application/octet-stream'));
    return reply.send(createReadStream(String(rec.storage_path)));
  });
}
