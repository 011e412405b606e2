import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { z } from 'zod';
import { type ParsedApiKey, parseApiKey, redactKeys, resolveBaseUrl } from './api-key.js';
import {
  ClinikoAmbiguousError,
  ClinikoAuthError,
  ClinikoBadRequestError,
  type ClinikoError,
  ClinikoNotFoundError,
  ClinikoPermissionError,
  ClinikoRateLimitedError,
  ClinikoResponseError,
  ClinikoTransientError,
  ClinikoValidationError,
  type RequestInfo,
} from './errors.js';
import type { Limiter } from './rate-limiter.js';
import { RequestCounter } from './request-counter.js';
import * as S from './schemas.js';
import {
  type HttpResponse,
  nodeTransport,
  type RequestBody,
  type Transport,
  TransportError,
} from './transport.js';

export const DEFAULT_USER_AGENT = 'cliniko-migrate (cliniko-migrate@users.noreply.github.com)';
const USER_AGENT_PATTERN = /^\S.*\(\s*[^\s@()]+@[^\s@()]+\.[^\s@()]+\s*\)\s*$/;

export interface RetryPolicy {
  /** Attempts for transient failures (5xx, resets before the body left). */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** How many 429s one request may wait out before giving up. */
  readonly maxRateLimitWaits: number;
}

export interface ClinikoClientOptions {
  readonly apiKey: string;
  /** `Name (email)`: Cliniko blocks clients without a contact address. */
  readonly userAgent?: string;
  /** Overrides `https://api.{shard}.cliniko.com/v1`, e.g. for the sandbox. */
  readonly baseUrl?: string;
  readonly limiter?: Limiter;
  readonly counter?: RequestCounter;
  readonly timeoutMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  /**
   * A 502 or 504 may come from a gateway after Cliniko saved the record. Unconfirmed, so by
   * default a create that gets one is treated as ambiguous and re-found before any retry.
   */
  readonly gatewayErrorsAreAmbiguous?: boolean;
  readonly transport?: Transport;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  readonly random?: () => number;
  /** Called before each retry with what happened; carries no record content. */
  readonly onRetry?: (event: RetryEvent) => void;
}

export interface RetryEvent {
  readonly method: string;
  readonly path: string;
  readonly reason: 'rate-limited' | 'transient';
  readonly status?: number;
  readonly waitMs: number;
  readonly attempt: number;
}

export type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

interface CallOptions<S extends z.ZodType | undefined> {
  readonly query?: Query;
  readonly body?: unknown;
  readonly schema: S;
  /** Repeating the request cannot create a second record. Everything but a create is. */
  readonly idempotent?: boolean;
}

export interface CreateOnceResult<T> {
  readonly record: T;
  /** The create had been applied although its answer was lost; it was found again. */
  readonly recovered: boolean;
}

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

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function encodeQuery(query: Query | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** Builds `q[]` filters: `filters({old_reference_id: '=C1'})` → `['old_reference_id:=C1']`. */
export function filters(spec: Record<string, string | undefined>): string[] {
  return Object.entries(spec)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([field, opValue]) => `${field}:${opValue}`);
}

/**
 * The one Cliniko client: every request goes through `call`, which handles auth, the rate
 * limiter, retries and error classification. It imports nothing from AWS and works against
 * real Cliniko and the sandbox alike.
 */
export class ClinikoClient {
  readonly key: ParsedApiKey;
  readonly baseUrl: string;
  readonly counter: RequestCounter;
  private readonly userAgent: string;
  private readonly authorization: string;
  private readonly retry: RetryPolicy;
  private readonly transport: Transport;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly timeoutMs: number;

  constructor(private readonly options: ClinikoClientOptions) {
    this.key = parseApiKey(options.apiKey);
    this.baseUrl = resolveBaseUrl(this.key, options.baseUrl);
    const ua = options.userAgent?.trim() || DEFAULT_USER_AGENT;
    if (!USER_AGENT_PATTERN.test(ua)) {
      throw new Error(`CLINIKO_USER_AGENT must look like "App name (contact@example.com)"; got "${ua}".`);
    }
    this.userAgent = ua;
    this.authorization = `Basic ${Buffer.from(`${this.key.key}:`).toString('base64')}`;
    this.counter = options.counter ?? new RequestCounter();
    this.retry = {
      maxAttempts: 5,
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      maxRateLimitWaits: 20,
      ...options.retry,
    };
    this.transport = options.transport ?? nodeTransport;
    this.sleep = options.sleep ?? sleepFor;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Milliseconds until this key's rate limit lets a request go (0: now): how loaded its lane is. */
  waitForToken(): Promise<number> {
    return this.options.limiter?.peek?.() ?? Promise.resolve(0);
  }

  // ---- reference data -------------------------------------------------------------------

  getCurrentUser(): Promise<S.User> {
    return this.call('GET', '/user', { schema: S.User });
  }

  /** The account the key belongs to (`account.id`, `subdomain`, `name`). */
  getPublicSettings(): Promise<S.PublicSettings> {
    return this.call('GET', '/settings/public', { schema: S.PublicSettings });
  }

  /** Active practitioners, then (with `includeInactive`) the inactive ones from their own endpoint. */
  async listPractitioners(
    options: { includeInactive?: boolean; userId?: string } = {},
  ): Promise<S.Practitioner[]> {
    const q = options.userId ? filters({ user_id: `=${options.userId}` }) : undefined;
    const active = await this.listAll('/practitioners', 'practitioners', S.Practitioner, q);
    if (!options.includeInactive) return active;
    const inactive = await this.listAll('/practitioners/inactive', 'practitioners', S.Practitioner, q);
    return [...active, ...inactive];
  }

  listBusinesses(): Promise<S.Business[]> {
    return this.listAll('/businesses', 'businesses', S.Business);
  }

  listAppointmentTypes(options: { includeArchived?: boolean } = {}): Promise<S.AppointmentType[]> {
    return this.listAll(
      '/appointment_types',
      'appointment_types',
      S.AppointmentType,
      options.includeArchived ? ['archived_at:*'] : undefined,
    );
  }

  listReferralSourceTypes(): Promise<S.ReferralSourceType[]> {
    return this.listAll('/referral_source_types', 'referral_source_types', S.ReferralSourceType);
  }

  // ---- patients ---------------------------------------------------------------------------

  listPatients(q?: readonly string[]): Promise<S.Patient[]> {
    return this.listAll('/patients', 'patients', S.Patient, q);
  }

  getPatient(id: S.ClinikoId): Promise<S.Patient> {
    return this.call('GET', `/patients/${id}`, { schema: S.Patient, query: { 'q[]': ['archived_at:*'] } });
  }

  createPatient(body: S.PatientBody): Promise<S.Patient> {
    return this.call('POST', '/patients', { schema: S.Patient, body, idempotent: false });
  }

  updatePatient(id: S.ClinikoId, body: S.PatientBody): Promise<S.Patient> {
    return this.call('PATCH', `/patients/${id}`, { schema: S.Patient, body });
  }

  /** Gives a patient entered in Cliniko the source id it is adopted under (a PATCH of that field alone). */
  async setPatientReference(id: S.ClinikoId, oldReferenceId: string): Promise<S.Patient> {
    return this.call('PATCH', `/patients/${id}`, {
      schema: S.Patient,
      body: { old_reference_id: oldReferenceId },
    });
  }

  async findPatientByReference(oldReferenceId: string): Promise<S.Patient | undefined> {
    const found = await this.listPatients(
      filters({ old_reference_id: `=${oldReferenceId}`, archived_at: '*' }),
    );
    return found.find((p) => p.old_reference_id === oldReferenceId);
  }

  /** Creates a patient exactly once, keyed by `old_reference_id`. */
  createPatientOnce(
    body: S.PatientBody & { old_reference_id: string },
  ): Promise<CreateOnceResult<S.Patient>> {
    return this.createOnce(
      () => this.createPatient(body),
      () => this.findPatientByReference(body.old_reference_id),
    );
  }

  getReferralSource(patientId: S.ClinikoId): Promise<S.ReferralSource> {
    return this.call('GET', `/patients/${patientId}/referral_source`, { schema: S.ReferralSource });
  }

  setReferralSource(patientId: S.ClinikoId, body: S.ReferralSourceBody): Promise<S.ReferralSource> {
    return this.call('PATCH', `/patients/${patientId}/referral_source`, { schema: S.ReferralSource, body });
  }

  // ---- medical alerts ---------------------------------------------------------------------

  listMedicalAlerts(patientId: S.ClinikoId): Promise<S.MedicalAlert[]> {
    return this.listAll(
      '/medical_alerts',
      'medical_alerts',
      S.MedicalAlert,
      filters({ patient_id: `=${patientId}` }),
    );
  }

  createMedicalAlert(body: S.MedicalAlertBody): Promise<S.MedicalAlert> {
    return this.call('POST', '/medical_alerts', { schema: S.MedicalAlert, body, idempotent: false });
  }

  createMedicalAlertOnce(
    body: S.MedicalAlertBody & { patient_id: string; name: string },
  ): Promise<CreateOnceResult<S.MedicalAlert>> {
    return this.createOnce(
      () => this.createMedicalAlert(body),
      async () => (await this.listMedicalAlerts(body.patient_id)).find((a) => a.name === body.name),
    );
  }

  // ---- contacts ---------------------------------------------------------------------------

  listContacts(q?: readonly string[]): Promise<S.Contact[]> {
    return this.listAll('/contacts', 'contacts', S.Contact, q);
  }

  createContact(body: S.ContactBody): Promise<S.Contact> {
    return this.call('POST', '/contacts', { schema: S.Contact, body, idempotent: false });
  }

  updateContact(id: S.ClinikoId, body: S.ContactBody): Promise<S.Contact> {
    return this.call('PATCH', `/contacts/${id}`, { schema: S.Contact, body });
  }

  /** Re-finds a contact by the fields the contract names: names, company, email and type. */
  async findContact(body: S.ContactBody): Promise<S.Contact | undefined> {
    const q = filters({
      last_name: body.last_name ? `=${body.last_name}` : undefined,
      first_name: body.first_name ? `=${body.first_name}` : undefined,
      company_name: body.company_name ? `=${body.company_name}` : undefined,
      type_code: body.type_code != null ? `=${body.type_code}` : undefined,
      archived_at: '*',
    });
    const same = (a: string | null | undefined, b: string | null | undefined) => (a ?? '') === (b ?? '');
    return (await this.listContacts(q)).find(
      (c) =>
        same(c.first_name, body.first_name) &&
        same(c.last_name, body.last_name) &&
        same(c.company_name, body.company_name) &&
        same(c.email, body.email),
    );
  }

  createContactOnce(body: S.ContactBody): Promise<CreateOnceResult<S.Contact>> {
    return this.createOnce(
      () => this.createContact(body),
      () => this.findContact(body),
    );
  }

  // ---- appointment types --------------------------------------------------------------------

  createAppointmentType(body: S.AppointmentTypeBody): Promise<S.AppointmentType> {
    return this.call('POST', '/appointment_types', { schema: S.AppointmentType, body, idempotent: false });
  }

  /** Names are not filterable, so the (short) list of types is read and matched by name. */
  createAppointmentTypeOnce(
    body: S.AppointmentTypeBody & { name: string },
  ): Promise<CreateOnceResult<S.AppointmentType>> {
    return this.createOnce(
      () => this.createAppointmentType(body),
      async () =>
        (await this.listAppointmentTypes({ includeArchived: true })).find((t) => t.name === body.name),
    );
  }

  // ---- appointments -------------------------------------------------------------------------

  listIndividualAppointments(q?: readonly string[]): Promise<S.IndividualAppointment[]> {
    return this.listAll('/individual_appointments', 'individual_appointments', S.IndividualAppointment, q);
  }

  createIndividualAppointment(body: S.IndividualAppointmentBody): Promise<S.IndividualAppointment> {
    return this.call('POST', '/individual_appointments', {
      schema: S.IndividualAppointment,
      body,
      idempotent: false,
    });
  }

  updateIndividualAppointment(
    id: S.ClinikoId,
    body: S.IndividualAppointmentBody,
  ): Promise<S.IndividualAppointment> {
    return this.call('PATCH', `/individual_appointments/${id}`, { schema: S.IndividualAppointment, body });
  }

  /** Cancels with one of Cliniko's reason codes (10, 20, 30, 31, 40, 50, 60). */
  async cancelIndividualAppointment(id: S.ClinikoId, body: S.IndividualAppointmentCancelBody): Promise<void> {
    await this.call('PATCH', `/individual_appointments/${id}/cancel`, { schema: undefined, body });
  }

  /** Appointments have no reference field: patient, practitioner and start time identify one. */
  async findIndividualAppointment(key: {
    patient_id: string;
    practitioner_id: string;
    starts_at: string;
  }): Promise<S.IndividualAppointment | undefined> {
    const q = filters({
      patient_id: `=${key.patient_id}`,
      practitioner_id: `=${key.practitioner_id}`,
      starts_at: undefined,
      cancelled_at: '*',
      archived_at: '*',
    });
    q.push(`starts_at:>=${key.starts_at}`, `starts_at:<=${key.starts_at}`);
    const wanted = Date.parse(key.starts_at);
    return (await this.listIndividualAppointments(q)).find((a) => Date.parse(a.starts_at) === wanted);
  }

  createIndividualAppointmentOnce(
    body: S.IndividualAppointmentBody & { patient_id: string; practitioner_id: string; starts_at: string },
  ): Promise<CreateOnceResult<S.IndividualAppointment>> {
    return this.createOnce(
      () => this.createIndividualAppointment(body),
      () => this.findIndividualAppointment(body),
    );
  }

  listAttendees(bookingId: S.ClinikoId): Promise<S.Attendee[]> {
    return this.listAll(
      '/attendees',
      'attendees',
      S.Attendee,
      filters({ booking_id: `=${bookingId}`, cancelled_at: '*' }),
    );
  }

  updateAttendee(id: S.ClinikoId, body: S.AttendeeUpdateBody): Promise<S.Attendee> {
    return this.call('PATCH', `/attendees/${id}`, { schema: S.Attendee, body });
  }

  /** Marks arrival (`true`) or did-not-arrive (`false`) through the appointment's one attendee. */
  async setArrival(appointmentId: S.ClinikoId, arrived: boolean): Promise<S.Attendee> {
    const [attendee] = await this.listAttendees(appointmentId);
    if (!attendee) {
      throw new Error(`Cliniko appointment ${appointmentId} has no attendee to mark arrival on`);
    }
    return this.updateAttendee(attendee.id, { arrived });
  }

  // ---- treatment notes ----------------------------------------------------------------------

  listTreatmentNotes(
    patientId: S.ClinikoId,
    options: { includeArchived?: boolean } = {},
  ): Promise<S.TreatmentNote[]> {
    return this.listAll(
      '/treatment_notes',
      'treatment_notes',
      S.TreatmentNote,
      filters({ patient_id: `=${patientId}`, archived_at: options.includeArchived ? '*' : undefined }),
    );
  }

  /**
   * Creates a treatment note. Its author is always the practitioner of this key's user (§2.11):
   * a key whose user is no practitioner is refused (422 or 403).
   */
  createTreatmentNote(body: S.TreatmentNoteBody): Promise<S.TreatmentNote> {
    return this.call('POST', '/treatment_notes', { schema: S.TreatmentNote, body, idempotent: false });
  }

  archiveTreatmentNote(id: S.ClinikoId): Promise<void> {
    return this.call('POST', `/treatment_notes/${id}/archive`, { schema: undefined });
  }

  /**
   * Re-finds a note by its natural key (§1.13): patient and booking are filterable, the title
   * is not, so it is matched in the (short) list of the patient's notes, archived ones included.
   */
  async findTreatmentNote(key: {
    patient_id: string;
    booking_id?: string | null;
    title: string;
  }): Promise<S.TreatmentNote | undefined> {
    const q = filters({
      patient_id: `=${key.patient_id}`,
      booking_id: key.booking_id ? `=${key.booking_id}` : undefined,
      archived_at: '*',
    });
    const notes = await this.listAll('/treatment_notes', 'treatment_notes', S.TreatmentNote, q);
    return notes.find(
      (n) => n.title === key.title && (key.booking_id ? true : S.idFromLink(n.booking) === undefined),
    );
  }

  createTreatmentNoteOnce(
    body: S.TreatmentNoteBody & { patient_id: string; title: string },
  ): Promise<CreateOnceResult<S.TreatmentNote>> {
    return this.createOnce(
      () => this.createTreatmentNote(body),
      () => this.findTreatmentNote(body),
    );
  }

  listTreatmentNoteTemplates(
    options: { includeArchived?: boolean } = {},
  ): Promise<S.TreatmentNoteTemplate[]> {
    return this.listAll(
      '/treatment_note_templates',
      'treatment_note_templates',
      S.TreatmentNoteTemplate,
      options.includeArchived ? ['archived_at:*'] : undefined,
    );
  }

  createTreatmentNoteTemplate(body: S.TreatmentNoteTemplateBody): Promise<S.TreatmentNoteTemplate> {
    return this.call('POST', '/treatment_note_templates', {
      schema: S.TreatmentNoteTemplate,
      body,
      idempotent: false,
    });
  }

  /** Names are not filterable: the (short) list of templates is read and matched by name. */
  async findTreatmentNoteTemplate(name: string): Promise<S.TreatmentNoteTemplate | undefined> {
    const all = await this.listTreatmentNoteTemplates({ includeArchived: true });
    return all.find((t) => t.name === name && !t.archived_at) ?? all.find((t) => t.name === name);
  }

  createTreatmentNoteTemplateOnce(
    body: S.TreatmentNoteTemplateBody & { name: string },
  ): Promise<CreateOnceResult<S.TreatmentNoteTemplate>> {
    return this.createOnce(
      () => this.createTreatmentNoteTemplate(body),
      () => this.findTreatmentNoteTemplate(body.name),
    );
  }

  /**
   * The practitioner this key writes as (§2.7): `GET /user`, then its practitioner among the
   * active and the inactive ones. `undefined`: the key's user is no practitioner.
   */
  async keyPractitioner(): Promise<{ user: S.User; practitioner?: S.Practitioner }> {
    const user = await this.getCurrentUser();
    const [practitioner] = await this.listPractitioners({ includeInactive: true, userId: user.id });
    return { user, ...(practitioner ? { practitioner } : {}) };
  }

  // ---- attachments --------------------------------------------------------------------------

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
    return found.find((a) => a.description === description);
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
      const key = await this.postToStorage(presigned, upload);
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

  /** The multipart POST to storage (S3 in Cliniko's case): no Cliniko auth, no rate limit. */
  private async postToStorage(
    presigned: S.AttachmentPresignedPost,
    upload: AttachmentUpload,
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
    const info = this.info('POST', 'attachment storage');
    let res: HttpResponse;
    try {
      res = await this.transport({
        method: 'POST',
        url: new URL(presigned.url),
        headers: {
          'Content-Type': `multipart/form-data; boundary=${boundary}`,
          'User-Agent': this.userAgent,
        },
        body,
        timeoutMs: Math.max(this.timeoutMs, 120_000),
      });
    } catch (err) {
      fileStream.destroy();
      // A repeated storage POST overwrites the same temporary object: always safe to repeat.
      throw new ClinikoTransientError(info, err instanceof Error ? err.message : String(err), undefined, {
        cause: err,
      });
    }
    if (res.status >= 500)
      throw new ClinikoTransientError(info, `storage answered ${res.status}`, res.status);
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

  // ---- generic machinery ------------------------------------------------------------------

  /**
   * Creates once: on an ambiguous failure the record is looked for before the create is repeated,
   * so a lost answer never turns into a duplicate.
   */
  async createOnce<T>(
    create: () => Promise<T>,
    refind: () => Promise<T | undefined>,
    maxAttempts = 4,
  ): Promise<CreateOnceResult<T>> {
    let last: unknown;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        return { record: await create(), recovered: false };
      } catch (err) {
        if (!(err instanceof ClinikoAmbiguousError)) throw err;
        last = err;
        const found = await refind();
        if (found) return { record: found, recovered: true };
      }
    }
    throw last;
  }

  /** Reads every page of a list by following `links.next`, 100 records a page. */
  async listAll<S extends z.ZodType>(
    path: string,
    collection: string,
    item: S,
    q?: readonly string[],
  ): Promise<z.infer<S>[]> {
    const out: z.infer<S>[] = [];
    for await (const page of this.pages(path, collection, item, q)) out.push(...page);
    return out;
  }

  async *pages<S extends z.ZodType>(
    path: string,
    collection: string,
    item: S,
    q?: readonly string[],
  ): AsyncGenerator<z.infer<S>[]> {
    const schema = S.listPage(collection, item);
    let next: string | undefined = `${this.baseUrl}${path}${encodeQuery({ per_page: 100, 'q[]': q })}`;
    while (next) {
      const page: { items: z.infer<S>[]; next: string | undefined } = await this.call('GET', next, {
        schema,
      });
      yield page.items;
      next = page.next;
    }
  }

  /** Sends one request with rate limiting, retries and error classification. */
  async call<Sch extends z.ZodType | undefined>(
    method: string,
    pathOrUrl: string,
    options: CallOptions<Sch>,
  ): Promise<Sch extends z.ZodType ? z.infer<Sch> : undefined> {
    const url = new URL(
      pathOrUrl.startsWith('http') ? pathOrUrl : `${this.baseUrl}${pathOrUrl}${encodeQuery(options.query)}`,
    );
    const info = this.info(method, url.pathname.replace(/^.*?\/v1(?=\/)/, ''));
    const idempotent = options.idempotent ?? method !== 'POST';
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body), 'utf8');
    let attempt = 0;
    let rateLimitWaits = 0;
    for (;;) {
      attempt++;
      await this.options.limiter?.acquire();
      let res: HttpResponse;
      try {
        res = await this.transport({
          method,
          url,
          headers: {
            Authorization: this.authorization,
            Accept: 'application/json',
            'User-Agent': this.userAgent,
            ...(body ? { 'Content-Type': 'application/json' } : {}),
          },
          ...(body ? { body } : {}),
          timeoutMs: this.timeoutMs,
        });
      } catch (err) {
        this.counter.record('network');
        const e = err instanceof TransportError ? err : new TransportError(String(err), true, 'UNKNOWN');
        if (e.bodySent && !idempotent) {
          throw new ClinikoAmbiguousError(info, `${e.code} after the request was sent`, undefined, {
            cause: e,
          });
        }
        const error = new ClinikoTransientError(
          info,
          `${e.code}: ${redactKeys(e.message, [this.key.key])}`,
          undefined,
          { cause: e },
        );
        await this.backoffOrThrow(error, attempt);
        continue;
      }
      this.counter.record(res.status);
      if (res.status >= 200 && res.status < 300) {
        return this.parseSuccess(res, options.schema, info) as Sch extends z.ZodType
          ? z.infer<Sch>
          : undefined;
      }
      if (res.status === 429) {
        rateLimitWaits++;
        const resetAt = this.rateLimitResetAt(res.headers, rateLimitWaits);
        if (rateLimitWaits > this.retry.maxRateLimitWaits) throw new ClinikoRateLimitedError(info, resetAt);
        await this.options.limiter?.pauseUntil(resetAt);
        const waitMs = Math.max(0, resetAt - this.now());
        this.options.onRetry?.({
          method,
          path: info.path,
          reason: 'rate-limited',
          status: 429,
          waitMs,
          attempt,
        });
        attempt--; // waiting out the limit is not a failed attempt
        if (!this.options.limiter) await this.sleep(waitMs);
        continue;
      }
      const error = this.classify(res, info, idempotent);
      if (!error.retryable) throw error;
      await this.backoffOrThrow(error, attempt);
    }
  }

  private async backoffOrThrow(error: ClinikoError, attempt: number): Promise<void> {
    if (attempt >= this.retry.maxAttempts) throw error;
    const cap = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    const waitMs = Math.round(cap / 2 + (this.random() * cap) / 2);
    this.options.onRetry?.({
      method: error.request.method,
      path: error.request.path,
      reason: 'transient',
      ...(error.status ? { status: error.status } : {}),
      waitMs,
      attempt,
    });
    await this.sleep(waitMs);
  }

  /** Repeats a step that is safe to repeat (presign and storage POST) after transient failures. */
  private async withTransientRetry<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof ClinikoTransientError)) throw err;
        await this.backoffOrThrow(err, attempt);
      }
    }
  }

  private rateLimitResetAt(headers: IncomingHttpHeaders, waits: number): number {
    const reset = Number(headerValue(headers, 'x-ratelimit-reset'));
    if (Number.isFinite(reset) && reset > 0) return reset * 1000;
    const retryAfter = headerValue(headers, 'retry-after');
    if (retryAfter) {
      const seconds = Number(retryAfter);
      if (Number.isFinite(seconds)) return this.now() + seconds * 1000;
      const date = Date.parse(retryAfter);
      if (Number.isFinite(date)) return date;
    }
    return this.now() + Math.min(60_000, 1000 * 2 ** Math.min(waits, 6));
  }

  private classify(res: HttpResponse, info: RequestInfo, idempotent: boolean): ClinikoError {
    const text = redactKeys(res.body.toString('utf8').slice(0, 2000), [this.key.key]);
    switch (res.status) {
      case 400:
        return new ClinikoBadRequestError(info, messageOf(text));
      case 401:
        return new ClinikoAuthError(info);
      case 403:
        return new ClinikoPermissionError(info, messageOf(text));
      case 404:
        return new ClinikoNotFoundError(info);
      case 422:
        return new ClinikoValidationError(info, fieldErrorsOf(text));
    }
    if (res.status >= 500) {
      if (
        !idempotent &&
        (this.options.gatewayErrorsAreAmbiguous ?? true) &&
        (res.status === 502 || res.status === 504)
      ) {
        return new ClinikoAmbiguousError(info, `gateway answered ${res.status}`, res.status);
      }
      return new ClinikoTransientError(info, `server answered ${res.status}`, res.status);
    }
    return new ClinikoBadRequestError(info, `unexpected status ${res.status}: ${messageOf(text)}`);
  }

  private parseSuccess(res: HttpResponse, schema: z.ZodType | undefined, info: RequestInfo): unknown {
    if (!schema) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new ClinikoResponseError(info, 'body is not JSON', res.status);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ClinikoResponseError(
        info,
        `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
        res.status,
      );
    }
    return parsed.data;
  }

  private info(method: string, path: string): RequestInfo {
    return { method, path, keyLabel: this.key.label };
  }
}

function messageOf(text: string): string {
  try {
    const json = JSON.parse(text) as { message?: unknown; error?: unknown; errors?: unknown };
    const msg = json.message ?? json.error;
    if (typeof msg === 'string') return msg;
  } catch {
    // plain-text bodies such as "HTTP Basic: Access denied." are shown as they are
  }
  return text.trim().slice(0, 300);
}

function fieldErrorsOf(text: string): Record<string, string> {
  try {
    const json = JSON.parse(text) as { errors?: Record<string, unknown> };
    const out: Record<string, string> = {};
    for (const [field, value] of Object.entries(json.errors ?? {})) {
      out[field] = Array.isArray(value) ? value.map(String).join(', ') : String(value);
    }
    return out;
  } catch {
    return { base: text.trim().slice(0, 300) };
  }
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
 * answers `temp_attachment_url is invalid` otherwise: CLINIKO_API.md §2.10).
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
