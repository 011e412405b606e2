import { ClinikoTransientError } from '../errors.js';
import { type CreateOnceResult, filters, type HttpBase, refound } from '../http.js';
import * as S from '../schemas.js';
import { type AttachmentUpload, joinUploadUrl, postToStorage } from '../upload.js';

/**
 * Patient attachments (Cliniko's API documentation on patient attachments): listed, found by
 * description, and uploaded through Cliniko's presigned storage POST (upload.ts) then created once.
 */
export function withAttachments<Base extends HttpBase>(Base: Base) {
  return class Attachments extends Base {
    listPatientAttachments(q?: readonly string[]): Promise<S.PatientAttachment[]> {
      return this.listAll('/patient_attachments', 'patient_attachments', S.PatientAttachment, q);
    }

    getPatientAttachment(id: S.ClinikoId): Promise<S.PatientAttachment> {
      return this.call('GET', `/patient_attachments/${id}`, { schema: S.PatientAttachment });
    }

    presignAttachment(patientId: S.ClinikoId): Promise<S.AttachmentPresignedPost> {
      return this.call('GET', `/patients/${patientId}/attachment_presigned_post`, {
        schema: S.AttachmentPresignedPost,
      });
    }

    async findAttachment(
      patientId: S.ClinikoId,
      description: string,
    ): Promise<S.PatientAttachment | undefined> {
      const found = await this.listPatientAttachments(
        filters({ patient_id: `=${patientId}`, description: `=${description}` }),
      );
      return refound(found.filter((a) => a.description === description));
    }

    /**
     * Cliniko's three-step upload: presign → multipart POST of the file to the storage URL → create
     * the attachment record → (optionally) wait for `processing_completed`. The file is streamed.
     */
    async uploadPatientAttachment(upload: AttachmentUpload): Promise<CreateOnceResult<S.PatientAttachment>> {
      if (upload.description.length > 255) {
        throw new RangeError('attachment description is longer than 255 characters');
      }
      const uploadUrl = await this.withTransientRetry(async () => {
        const presigned = await this.presignAttachment(upload.patientId);
        const key = await postToStorage(presigned, upload, {
          transport: this.transport,
          userAgent: this.userAgent,
          timeoutMs: this.timeoutMs,
          info: this.info('POST', 'attachment storage'),
        });
        return joinUploadUrl(presigned.url, key);
      });
      const result = await this.createOnce(
        () =>
          this.call('POST', '/patient_attachments', {
            schema: S.PatientAttachment,
            body: {
              patient_id: upload.patientId,
              upload_url: uploadUrl,
              description: upload.description,
            } satisfies S.PatientAttachmentBody,
            idempotent: false,
          }),
        () => this.findAttachment(upload.patientId, upload.description),
      );
      if (upload.waitForProcessing === false || result.record.processing_completed) return result;
      return {
        ...result,
        record: await this.waitForProcessing(result.record.id, upload.processingTimeoutMs ?? 300_000),
      };
    }

    private async waitForProcessing(id: S.ClinikoId, timeoutMs: number): Promise<S.PatientAttachment> {
      const deadline = this.now() + timeoutMs;
      let delay = 500;
      for (;;) {
        await this.sleep(delay);
        const record = await this.getPatientAttachment(id);
        if (record.processing_completed) return record;
        if (this.now() + delay > deadline) {
          throw new ClinikoTransientError(
            this.info('GET', `/patient_attachments/${id}`),
            `still processing after ${Math.round(timeoutMs / 1000)} s`,
          );
        }
        delay = Math.min(delay * 2, 10_000);
      }
    }
  };
}
