import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { FILENAME_PLACEHOLDER } from '../../src/cliniko/client.js';
import { type FaultSpec, NO_FAULTS, seededRandom } from './faults.js';
import { FilterError, parseFilter, queryFilters } from './filters.js';
import { FixedWindowLimiter } from './fixed-window.js';
import {
  checkReferences,
  normalisePhones,
  phoneErrors,
  present,
  RESOURCES,
  type ResourceSpec,
} from './resources.js';
import { applySeed, defaultSeed, keyBody, type SandboxSeed } from './seed.js';
import { type Rec, SandboxState, type Table } from './state.js';
import { checkContent } from './treatment-notes.js';
import { utcSeconds, validate } from './validation.js';

export interface SandboxOptions {
  readonly port?: number;
  readonly host?: string;
  /** The shard this sandbox stands for; keys with another suffix are refused (401). */
  readonly shard?: string;
  /** Requests per window per user (Cliniko: 200 a minute). */
  readonly rateLimit?: number;
  /** Window length; shorter windows keep the same ratio for quick benchmarks. */
  readonly rateWindowMs?: number;
  /** Also send `Retry-After` on 429 (unconfirmed for Cliniko, so off by default). */
  readonly retryAfterHeader?: boolean;
  readonly faults?: FaultSpec;
  /** Seed for the fault generator, so a faulty run can be repeated. */
  readonly faultSeed?: number;
  /** X-RateLimit-Reset of an injected 429, from now. */
  readonly injected429ResetMs?: number;
  readonly seed?: SandboxSeed;
  /** Load from and save to this file. */
  readonly stateFile?: string;
  /** Status for a request without a usable User-Agent (unconfirmed: 400 or 403). */
  readonly userAgentStatus?: 400 | 403;
  /** `per_page` over 100: clamp (default) or 400. */
  readonly perPageOverflow?: 'clamp' | 'error';
  /** Delay before an attachment is `processing_completed`. */
  readonly attachmentProcessingMs?: number;
  /** Largest file the presigned POST policy allows. */
  readonly maxAttachmentBytes?: number;
  readonly logger?: boolean;
  /** Sees every API request's method, path and status (benchmarks attribute requests to entities). */
  readonly observe?: (method: string, path: string, status: number, at: number) => void;
  /** Requests that always fail with 503 (a record that keeps failing, for dead-letter tests). */
  readonly alwaysFail?: (method: string, path: string, body: unknown) => boolean;
}

export interface Sandbox {
  readonly url: string;
  /** `http://127.0.0.1:port/v1`: what CLINIKO_BASE_URL points at. */
  readonly baseUrl: string;
  readonly state: SandboxState;
  /** Change faults while the server runs (tests switch them on and off). */
  faults: FaultSpec;
  readonly limiter: FixedWindowLimiter;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

interface Ctx {
  userId: string;
  drop: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    ctx: Ctx;
  }
}

const BUCKET = 'cliniko-sandbox-uploads';
const UA_PATTERN = /\(\s*[^\s@()]+@[^\s@()]+\.[^\s@()]+\s*\)/;
const WRITE_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);
const CANCELLATION_REASONS: Record<number, string> = {
  10: 'Feeling Better',
  20: 'Condition Worse',
  30: 'Sick',
  31: 'COVID-19 related',
  40: 'Away',
  50: 'Other',
  60: 'Work',
};

function validationFailed(reply: FastifyReply, errors: Record<string, string>) {
  return reply.code(422).send({ message: 'Validation Failed', errors });
}

function apiBase(req: FastifyRequest): string {
  return `http://${req.headers.host ?? '127.0.0.1'}/v1`;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const state = new SandboxState();
  if (options.stateFile && fileExists(options.stateFile)) state.load(options.stateFile);
  else applySeed(state, options.seed ?? defaultSeed());

  const shard = (options.shard ?? 'au1').toLowerCase();
  const limiter = new FixedWindowLimiter(options.rateLimit ?? 200, options.rateWindowMs ?? 60_000);
  const random = seededRandom(options.faultSeed ?? 1);
  const storageDir = mkdtempSync(join(tmpdir(), 'cliniko-sandbox-'));
  const tempObjects = new Map<
    string,
    { path: string; size: number; contentType: string; filename: string }
  >();
  const signingSecret = randomBytes(32);
  const timers = new Set<NodeJS.Timeout>();
  let saveTimer: NodeJS.Timeout | undefined;

  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 16 * 1024 * 1024 });
  const sandbox: Sandbox = {
    url: '',
    baseUrl: '',
    state,
    faults: { ...(options.faults ?? NO_FAULTS) },
    limiter,
    app,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      if (saveTimer) clearTimeout(saveTimer);
      if (options.stateFile) state.save(options.stateFile);
      await app.close();
      rmSync(storageDir, { recursive: true, force: true });
    },
  };

  const changed = () => {
    if (!options.stateFile || saveTimer) return;
    saveTimer = setTimeout(() => {
      saveTimer = undefined;
      if (options.stateFile) state.save(options.stateFile);
    }, 200);
  };

  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ message: 'Not found' }));
  app.setErrorHandler((error: Error & { statusCode?: number }, _req, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    return reply.code(status).send({ message: status === 500 ? 'Internal Server Error' : error.message });
  });

  // ---- the API, under /v1 --------------------------------------------------------------
  await app.register(
    async (api) => {
      api.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
        try {
          done(null, body === '' ? {} : JSON.parse(body as string));
        } catch {
          done(Object.assign(new Error('Body is not valid JSON'), { statusCode: 400 }));
        }
      });

      api.addHook('onRequest', async (req, reply) => {
        const faults = sandbox.faults;
        if (faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs));
        const userId = authenticate(req.headers.authorization);
        if (!userId) {
          return reply
            .code(401)
            .header('Content-Type', 'text/plain; charset=utf-8')
            .send('HTTP Basic: Access denied.');
        }
        const ua = req.headers['user-agent'];
        if (!ua || !UA_PATTERN.test(ua)) {
          return reply.code(options.userAgentStatus ?? 403).send({ message: 'Requires a user agent' });
        }
        const now = Date.now();
        const resetAt = limiter.hit(userId, now);
        if (resetAt !== undefined) return tooMany(reply, resetAt);
        if (faults.rateLimited > 0 && random() < faults.rateLimited) {
          return tooMany(reply, now + (options.injected429ResetMs ?? 1000));
        }
        if (faults.serverError > 0 && random() < faults.serverError) {
          const status = [500, 502, 503, 504][Math.floor(random() * 4)] ?? 500;
          return reply.code(status).send({ message: 'Injected server error' });
        }
        req.ctx = {
          userId,
          drop:
            WRITE_METHODS.has(req.method) && faults.dropAfterCommit > 0 && random() < faults.dropAfterCommit,
        };
      });

      if (options.observe) {
        const observe = options.observe;
        api.addHook('onResponse', async (req, reply) =>
          observe(req.method, req.url.split('?')[0] ?? '', reply.statusCode, Date.now()),
        );
      }

      if (options.alwaysFail) {
        const alwaysFail = options.alwaysFail;
        api.addHook('preHandler', async (req, reply) => {
          if (alwaysFail(req.method, req.url.split('?')[0] ?? '', req.body))
            return reply.code(503).send({ message: 'Service Unavailable' });
        });
      }

      const commit = (req: FastifyRequest, reply: FastifyReply, status: number, body?: unknown) => {
        changed();
        if (req.ctx.drop) {
          // Saved, but the client never hears so: the connection is cut before any answer.
          reply.hijack();
          req.raw.socket.destroy();
          return reply;
        }
        return body === undefined ? reply.code(status).send() : reply.code(status).send(body);
      };

      // who am I
      api.get('/user', async (req) =>
        present(RESOURCES.users as ResourceSpec, must(state.get('users', req.ctx.userId)), apiBase(req)),
      );
      // the account the key belongs to: readable by any user (`/settings` needs a settings role)
      api.get('/settings/public', async () => ({
        account: { ...state.account, country: 'Australia', time_zone_support: true },
      }));
      api.get('/users', async (req, reply) => {
        const me = must(state.get('users', req.ctx.userId));
        if (me.role !== 'administrator')
          return reply.code(403).send({ message: 'You do not have permission to view other users' });
        return list(req, reply, RESOURCES.users as ResourceSpec, state.all('users'));
      });

      // practitioners: the plain list holds active ones, inactive ones have their own path
      const practitioners = RESOURCES.practitioners as ResourceSpec;
      api.get('/practitioners', (req, reply) =>
        list(
          req,
          reply,
          practitioners,
          state.all('practitioners').filter((p) => p.active),
        ),
      );
      api.get('/practitioners/inactive', (req, reply) =>
        list(
          req,
          reply,
          practitioners,
          state.all('practitioners').filter((p) => !p.active),
        ),
      );
      api.get('/businesses/:id/practitioners', (req, reply) =>
        list(
          req,
          reply,
          practitioners,
          state.all('practitioners').filter((p) => p.active),
        ),
      );

      // nested lists that Cliniko still serves
      const patientChild = (path: string, spec: ResourceSpec, field = 'patient_id') =>
        api.get<{ Params: { id: string } }>(`/patients/:id/${path}`, (req, reply) => {
          if (!state.get('patients', req.params.id)) return reply.code(404).send({ message: 'Not found' });
          return list(
            req,
            reply,
            spec,
            state.all(spec.table).filter((r) => r[field] === req.params.id),
          );
        });
      patientChild('medical_alerts', RESOURCES.medical_alerts as ResourceSpec);
      patientChild('patient_attachments', RESOURCES.patient_attachments as ResourceSpec);
      patientChild('treatment_notes', RESOURCES.treatment_notes as ResourceSpec);
      api.get<{ Params: { id: string } }>('/individual_appointments/:id/attendees', (req, reply) =>
        list(
          req,
          reply,
          RESOURCES.attendees as ResourceSpec,
          state.all('attendees').filter((a) => a.booking_id === req.params.id),
        ),
      );

      // referral source: one per patient, set with PATCH (which creates it when absent)
      const referralSpec = RESOURCES.referral_sources as ResourceSpec;
      api.get<{ Params: { id: string } }>('/patients/:id/referral_source', async (req, reply) => {
        const rec = state.all('referral_sources').find((r) => r.patient_id === req.params.id);
        if (!state.get('patients', req.params.id) || !rec)
          return reply.code(404).send({ message: 'Not found' });
        return present(referralSpec, rec, apiBase(req));
      });
      const setReferral = async (
        req: FastifyRequest<{ Params: { id: string }; Body: Record<string, unknown> }>,
        reply: FastifyReply,
      ) => {
        if (!state.get('patients', req.params.id)) return reply.code(404).send({ message: 'Not found' });
        const { values, errors } = validate(req.body ?? {}, referralSpec.rules, 'create');
        const type = values.referral_source_type_id
          ? state.get('referral_source_types', String(values.referral_source_type_id))
          : undefined;
        if (values.referral_source_type_id && !type) errors.referral_source_type = 'must exist';
        let referrerPath: string | undefined;
        if (type?.referrer_type === 'Patient' || type?.referrer_type === 'Contact') {
          const table: Table = type.referrer_type === 'Patient' ? 'patients' : 'contacts';
          referrerPath = table;
          if (!values.referrer_id) errors.referrer = "can't be blank";
          else if (!state.get(table, String(values.referrer_id))) errors.referrer = 'must exist';
        }
        const subs = type?.subcategories as string[] | null | undefined;
        if (subs?.length && values.subcategory != null && !subs.includes(String(values.subcategory)))
          errors.subcategory = 'is not included in the list';
        if (Object.keys(errors).length) return validationFailed(reply, errors);
        const existing = state.all('referral_sources').find((r) => r.patient_id === req.params.id);
        const data = {
          ...values,
          referrer_path: referrerPath ?? null,
          patient_id: req.params.id,
          archived_at: null,
        };
        const rec = existing
          ? state.update('referral_sources', existing.id, data)
          : state.insert('referral_sources', data);
        return commit(req, reply, 200, present(referralSpec, rec, apiBase(req)));
      };
      api.patch('/patients/:id/referral_source', setReferral);
      api.put('/patients/:id/referral_source', setReferral);

      // attachments: presign, create from an uploaded temp object, content
      api.get<{ Params: { id: string } }>('/patients/:id/attachment_presigned_post', async (req, reply) => {
        if (!state.get('patients', req.params.id)) return reply.code(404).send({ message: 'Not found' });
        const prefix = `sandbox/patients/${req.params.id}/attachments/temp/${randomBytes(8).toString('hex')}/`;
        const policy = Buffer.from(
          JSON.stringify({
            expiration: new Date(Date.now() + 3_600_000).toISOString(),
            conditions: [
              { bucket: BUCKET },
              ['starts-with', '$key', prefix],
              { acl: 'private' },
              { success_action_status: '201' },
              ['content-length-range', 0, options.maxAttachmentBytes ?? 2 * 1024 ** 3],
            ],
          }),
        ).toString('base64');
        const date = new Date()
          .toISOString()
          .replace(/[-:]/g, '')
          .replace(/\.\d{3}/, '');
        return {
          url: `http://${req.headers.host}/s3/${BUCKET}/`,
          fields: {
            key: `${prefix}${FILENAME_PLACEHOLDER}`,
            policy,
            'x-amz-credential': `SANDBOX/${date.slice(0, 8)}/local/s3/aws4_request`,
            'x-amz-algorithm': 'AWS4-HMAC-SHA256',
            'x-amz-date': date,
            'x-amz-signature': sign(policy),
            success_action_status: '201',
            acl: 'private',
          },
        };
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
            ? uploadKey(body.upload_url, `http://${req.headers.host}/s3/${BUCKET}`)
            : undefined;
        const object = key ? tempObjects.get(key) : undefined;
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
        tempObjects.delete(key);
        const timer = setTimeout(() => {
          timers.delete(timer);
          const stored = join(storageDir, `attachment-${rec.id}`);
          renameSync(object.path, stored);
          state.update('patient_attachments', rec.id, {
            filename: object.filename,
            content_type: object.contentType,
            size: object.size,
            processing_completed: true,
            processed_at: state.now(),
            storage_path: stored,
          });
          changed();
        }, options.attachmentProcessingMs ?? 100);
        timers.add(timer);
        return commit(req, reply, 201, present(attachments, rec, apiBase(req)));
      });
      api.get<{ Params: { id: string } }>('/patient_attachments/:id/content', async (req, reply) => {
        const rec = state.get('patient_attachments', req.params.id);
        if (!rec?.storage_path) return reply.code(404).send({ message: 'Not found' });
        reply.header('Content-Type', String(rec.content_type ?? 'application/octet-stream'));
        return reply.send(createReadStream(String(rec.storage_path)));
      });

      // appointments: cancel with a reason code, conflicts
      api.patch<{ Params: { id: string }; Body: Record<string, unknown> }>(
        '/individual_appointments/:id/cancel',
        async (req, reply) => {
          const appt = state.get('individual_appointments', req.params.id);
          if (!appt) return reply.code(404).send({ message: 'Not found' });
          const reason = Number(req.body?.cancellation_reason);
          if (req.body?.cancellation_reason == null || !CANCELLATION_REASONS[reason]) {
            return validationFailed(reply, {
              cancellation_reason:
                req.body?.cancellation_reason == null ? "can't be blank" : 'is not included in the list',
            });
          }
          const note = req.body?.cancellation_note;
          const cancelled = {
            cancelled_at: appt.cancelled_at ?? state.now(),
            cancellation_reason: reason,
            cancellation_reason_description: CANCELLATION_REASONS[reason],
            cancellation_note: typeof note === 'string' ? note : null,
          };
          state.update('individual_appointments', appt.id, cancelled);
          for (const a of state.all('attendees'))
            if (a.booking_id === appt.id) state.update('attendees', a.id, cancelled);
          return commit(req, reply, 204);
        },
      );
      api.get<{ Params: { id: string } }>('/individual_appointments/:id/conflicts', async (req, reply) => {
        const appt = state.get('individual_appointments', req.params.id);
        if (!appt) return reply.code(404).send({ message: 'Not found' });
        const exist = state
          .all('individual_appointments')
          .some(
            (o) =>
              o.id !== appt.id &&
              !o.cancelled_at &&
              !o.archived_at &&
              o.practitioner_id === appt.practitioner_id &&
              String(o.starts_at) < String(appt.ends_at) &&
              String(appt.starts_at) < String(o.ends_at),
          );
        return { conflicts: { exist } };
      });

      // the generic resources
      for (const spec of Object.values(RESOURCES)) {
        if (spec.table === 'practitioners' || spec.table === 'users') {
          api.get<{ Params: { id: string } }>(`/${spec.path}/:id`, (req, reply) => getOne(req, reply, spec));
          continue;
        }
        api.get(`/${spec.path}`, (req, reply) => list(req, reply, spec, state.all(spec.table)));
        api.get<{ Params: { id: string } }>(`/${spec.path}/:id`, (req, reply) => getOne(req, reply, spec));
        if (spec.create)
          api.post<{ Body: Record<string, unknown> }>(`/${spec.path}`, (req, reply) =>
            create(req, reply, spec),
          );
        if (spec.update) {
          api.patch<{ Params: { id: string }; Body: Record<string, unknown> }>(
            `/${spec.path}/:id`,
            (req, reply) => update(req, reply, spec),
          );
          api.put<{ Params: { id: string }; Body: Record<string, unknown> }>(
            `/${spec.path}/:id`,
            (req, reply) => update(req, reply, spec),
          );
        }
        if (spec.archive) {
          const archive = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
            const rec = state.get(spec.table, req.params.id);
            if (!rec) return reply.code(404).send({ message: 'Not found' });
            state.update(spec.table, rec.id, { archived_at: rec.archived_at ?? state.now() });
            return commit(req, reply, 204);
          };
          api.post(`/${spec.path}/:id/archive`, archive);
          api.delete(`/${spec.path}/:id`, archive);
        }
        if (spec.unarchive) {
          api.post<{ Params: { id: string } }>(`/${spec.path}/:id/unarchive`, async (req, reply) => {
            const rec = state.get(spec.table, req.params.id);
            if (!rec) return reply.code(404).send({ message: 'Not found' });
            return commit(
              req,
              reply,
              200,
              present(spec, state.update(spec.table, rec.id, { archived_at: null }), apiBase(req)),
            );
          });
        }
      }

      function getOne(
        req: FastifyRequest<{ Params: { id: string } }>,
        reply: FastifyReply,
        spec: ResourceSpec,
      ) {
        const rec = state.get(spec.table, req.params.id);
        if (!rec) return reply.code(404).send({ message: 'Not found' });
        return reply.send(present(spec, rec, apiBase(req)));
      }

      function create(
        req: FastifyRequest<{ Body: Record<string, unknown> }>,
        reply: FastifyReply,
        spec: ResourceSpec,
      ) {
        const body = req.body && typeof req.body === 'object' ? req.body : {};
        const { values, errors } = validate(body, spec.rules, 'create');
        const extra = beforeWrite(spec.table, values, errors, undefined, req.ctx.userId);
        if (Object.keys(errors).length) return validationFailed(reply, errors);
        const rec = state.insert(spec.table, { ...defaults(spec.table), ...values, ...extra });
        afterCreate(spec.table, rec);
        return commit(req, reply, 201, present(spec, rec, apiBase(req)));
      }

      function update(
        req: FastifyRequest<{ Params: { id: string }; Body: Record<string, unknown> }>,
        reply: FastifyReply,
        spec: ResourceSpec,
      ) {
        const rec = state.get(spec.table, req.params.id);
        if (!rec) return reply.code(404).send({ message: 'Not found' });
        const body = req.body && typeof req.body === 'object' ? req.body : {};
        const { values, errors } = validate(body, spec.rules, 'update');
        const extra = beforeWrite(spec.table, values, errors, rec, req.ctx.userId);
        if (Object.keys(errors).length) return validationFailed(reply, errors);
        const updated = state.update(spec.table, rec.id, { ...values, ...extra });
        if (spec.table === 'attendees' && Object.hasOwn(values, 'arrived')) syncArrival(updated);
        return commit(req, reply, 200, present(spec, updated, apiBase(req)));
      }

      function list(req: FastifyRequest, reply: FastifyReply, spec: ResourceSpec, records: Rec[]) {
        const query = req.query as Record<string, unknown>;
        let parsed: ReturnType<typeof parseFilter>[];
        try {
          parsed = queryFilters(query).map((f) => parseFilter(f, spec.filters));
        } catch (err) {
          if (err instanceof FilterError) return reply.code(400).send({ message: err.message });
          throw err;
        }
        const named = new Set(parsed.map((f) => f.field));
        let rows = records.filter((r) => spec.hideWhenSet.every((f) => named.has(f) || r[f] == null));
        for (const f of parsed) rows = rows.filter(f.test);
        rows = sortRows(
          rows,
          typeof query.sort === 'string' ? query.sort : undefined,
          query.order === 'desc',
        );

        const rawPerPage = query.per_page === undefined ? 50 : Number(query.per_page);
        if (
          !Number.isInteger(rawPerPage) ||
          ((rawPerPage < 1 || rawPerPage > 100) && options.perPageOverflow === 'error')
        ) {
          return reply.code(400).send({ message: 'per_page must be between 1 and 100' });
        }
        const perPage = Math.min(100, Math.max(1, rawPerPage));
        const page = Math.max(1, Number.parseInt(String(query.page ?? '1'), 10) || 1);
        const total = rows.length;
        const slice = rows.slice((page - 1) * perPage, page * perPage);
        const base = apiBase(req);
        const pathOnly = req.url.split('?')[0]?.replace(/^\/v1/, '') ?? '';
        const pageUrl = (n: number) => {
          const params = new URLSearchParams(req.url.split('?')[1] ?? '');
          params.set('page', String(n));
          return `${base}${pathOnly}?${params.toString()}`;
        };
        const links: Record<string, string> = { self: pageUrl(page) };
        if (page * perPage < total) links.next = pageUrl(page + 1);
        if (page > 1) links.previous = pageUrl(page - 1);
        return reply.send({
          [spec.collection]: slice.map((r) => present(spec, r, base)),
          total_entries: total,
          links,
        });
      }
    },
    { prefix: '/v1' },
  );

  // ---- S3-style storage for the attachment flow (no Cliniko auth, as with real S3) -------
  await app.register(async (storage) => {
    await storage.register(multipart, {
      limits: { fileSize: options.maxAttachmentBytes ?? 2 * 1024 ** 3, fields: 50, files: 1 },
    });
    storage.post(`/s3/${BUCKET}/`, async (req, reply) => {
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
        const policyError = checkPolicy(fields);
        if (policyError) {
          part.file.resume();
          return xml(403, 'AccessDenied', policyError);
        }
        const filename = part.filename || 'file';
        const key = (fields.key ?? '').replace(FILENAME_PLACEHOLDER, filename);
        const path = join(storageDir, `temp-${randomBytes(8).toString('hex')}`);
        await pipeline(part.file, createWriteStream(path));
        if (part.file.truncated) {
          rmSync(path, { force: true });
          return xml(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
        }
        const size = statSync(path).size;
        tempObjects.set(key, {
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

  function sign(policy: string): string {
    return createHmac('sha256', signingSecret).update(policy).digest('hex');
  }

  function checkPolicy(fields: Record<string, string>): string | undefined {
    const policy = fields.policy;
    const signature = fields['x-amz-signature'] ?? '';
    if (!policy) return 'Missing policy';
    const expected = Buffer.from(sign(policy));
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

  function authenticate(header: string | undefined): string | undefined {
    if (!header?.startsWith('Basic ')) return undefined;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const key = colon === -1 ? decoded : decoded.slice(0, colon);
    const dash = key.lastIndexOf('-');
    const suffix = dash > 0 ? key.slice(dash + 1) : '';
    if (/^[a-z]{2}\d{1,2}$/i.test(suffix) && suffix.toLowerCase() !== shard) return undefined;
    if (!/^[a-z]{2}\d{1,2}$/i.test(suffix) && shard !== 'au1' && !state.apiKeys.has(key)) return undefined;
    return state.apiKeys.get(keyBody(key));
  }

  function tooMany(reply: FastifyReply, resetAtMs: number) {
    const resetSeconds = Math.ceil(resetAtMs / 1000);
    reply.code(429).header('X-RateLimit-Reset', String(resetSeconds));
    if (options.retryAfterHeader)
      reply.header('Retry-After', String(Math.max(0, resetSeconds - Math.floor(Date.now() / 1000))));
    return reply.send({ message: 'Too Many Requests' });
  }

  function defaults(table: Table): Record<string, unknown> {
    switch (table) {
      case 'patients':
        return {
          archived_at: null,
          deleted_at: null,
          merged_at: null,
          date_of_birth: null,
          email: null,
          old_reference_id: null,
          patient_phone_numbers: [],
          accepted_sms_marketing: null,
          referring_doctor_id: null,
        };
      case 'contacts':
        return { archived_at: null, deleted_at: null, type_code: 0, phone_numbers: [] };
      case 'appointment_types':
        return { archived_at: null, max_attendees: 1, category: null, description: null };
      case 'individual_appointments':
        return {
          archived_at: null,
          deleted_at: null,
          cancelled_at: null,
          cancellation_reason: null,
          cancellation_reason_description: null,
          cancellation_note: null,
          did_not_arrive: false,
          patient_arrived: false,
          notes: null,
        };
      case 'medical_alerts':
        return { archived_at: null, deleted_at: null };
      case 'treatment_notes':
        return {
          archived_at: null,
          deleted_at: null,
          draft: true,
          finalized_at: null,
          pinned_at: null,
          content: null,
        };
      case 'treatment_note_templates':
        return { archived_at: null, deleted_at: null, print_settings: null };
      default:
        return { archived_at: null };
    }
  }

  /** Rules across fields and records; fills derived fields. Adds to `errors` in place. */
  function beforeWrite(
    table: Table,
    values: Record<string, unknown>,
    errors: Record<string, string>,
    existing: Rec | undefined,
    userId: string,
  ): Record<string, unknown> {
    const extra: Record<string, unknown> = {};
    switch (table) {
      case 'patients':
        Object.assign(
          errors,
          phoneErrors(values.patient_phone_numbers, 'patient_phone_numbers'),
          checkReferences(state, values, { referring_doctor_id: 'contacts' }),
        );
        if (values.patient_phone_numbers)
          values.patient_phone_numbers = normalisePhones(values.patient_phone_numbers);
        if (Object.hasOwn(values, 'unsubscribe_sms_marketing'))
          extra.accepted_sms_marketing = values.unsubscribe_sms_marketing === true ? false : null;
        break;
      case 'contacts': {
        Object.assign(errors, phoneErrors(values.phone_numbers, 'phone_numbers'));
        if (values.phone_numbers) values.phone_numbers = normalisePhones(values.phone_numbers);
        const merged = { ...existing, ...values };
        if (!merged.first_name && !merged.last_name && !merged.company_name)
          errors.last_name = "can't be blank";
        const typeCode = (merged.type_code ?? 0) as number;
        extra.type = ['Standard', 'Doctor', '3rd Party Payer'][typeCode] ?? 'Standard';
        break;
      }
      case 'individual_appointments': {
        Object.assign(
          errors,
          checkReferences(state, values, {
            patient_id: 'patients',
            practitioner_id: 'practitioners',
            appointment_type_id: 'appointment_types',
            business_id: 'businesses',
          }),
        );
        const merged = { ...existing, ...values };
        const type = merged.appointment_type_id
          ? state.get('appointment_types', String(merged.appointment_type_id))
          : undefined;
        // Cliniko: "If not provided on create or set to null on update", ends_at follows the type's duration.
        const derive = existing
          ? Object.hasOwn(values, 'ends_at') && values.ends_at == null
          : values.ends_at == null;
        if (derive && merged.starts_at && type) {
          extra.ends_at = utcSeconds(
            new Date(Date.parse(String(merged.starts_at)) + Number(type.duration_in_minutes) * 60_000),
          );
        }
        const ends = (extra.ends_at ?? merged.ends_at) as string | undefined;
        if (merged.starts_at && ends && Date.parse(ends) < Date.parse(String(merged.starts_at)))
          errors.ends_at = 'must be after starts_at';
        const patient = merged.patient_id ? state.get('patients', String(merged.patient_id)) : undefined;
        if (patient) extra.patient_name = `${patient.first_name} ${patient.last_name}`;
        break;
      }
      case 'medical_alerts':
        Object.assign(errors, checkReferences(state, values, { patient_id: 'patients' }));
        break;
      case 'treatment_notes': {
        Object.assign(
          errors,
          checkReferences(state, values, {
            patient_id: 'patients',
            booking_id: 'individual_appointments',
            treatment_note_template_id: 'treatment_note_templates',
          }),
        );
        // §2.11: the author is the practitioner of the key's user, active or not; a user who is
        // no practitioner cannot write notes (422 here; 403 or 422 is unconfirmed).
        const practitioner = state.all('practitioners').find((p) => p.user_id === userId);
        if (!practitioner) errors.practitioner = 'must be a practitioner to create treatment notes';
        else if (!existing) {
          extra.practitioner_id = practitioner.id;
          extra.author_name = [practitioner.first_name, practitioner.last_name].filter(Boolean).join(' ');
        }
        // `title` is required unless a template gives it (§3 item 13): the template's name.
        const merged = { ...existing, ...values };
        const template = merged.treatment_note_template_id
          ? state.get('treatment_note_templates', String(merged.treatment_note_template_id))
          : undefined;
        if (merged.title == null || String(merged.title).trim() === '') {
          if (template && !existing) extra.title = template.name;
          else errors.title = "can't be blank";
        }
        if (Object.hasOwn(values, 'content')) {
          const checked = checkContent(values.content, 'note');
          Object.assign(errors, checked.errors);
          values.content = checked.content;
        }
        if (values.draft === false && !existing?.finalized_at) extra.finalized_at = state.now();
        break;
      }
      case 'treatment_note_templates': {
        if (Object.hasOwn(values, 'content') || !existing) {
          const checked = checkContent(values.content, 'template');
          Object.assign(errors, checked.errors);
          values.content = checked.content;
        }
        break;
      }
    }
    return extra;
  }

  function afterCreate(table: Table, rec: Rec): void {
    if (table === 'individual_appointments') {
      state.insert('attendees', {
        booking_id: rec.id,
        appointment_id: rec.id,
        patient_id: rec.patient_id,
        arrived: null,
        notes: null,
        archived_at: null,
        cancelled_at: null,
        cancellation_reason: null,
        cancellation_reason_description: null,
        cancellation_note: null,
        patient_case_id: null,
      });
    }
  }

  function syncArrival(attendee: Rec): void {
    const appt = attendee.booking_id
      ? state.get('individual_appointments', String(attendee.booking_id))
      : undefined;
    if (!appt) return;
    // Unconfirmed how Cliniko maps it; we read `arrived: false` as did-not-arrive.
    state.update('individual_appointments', appt.id, {
      patient_arrived: attendee.arrived === true,
      did_not_arrive: attendee.arrived === false,
    });
  }

  const address = await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const url = address.replace('localhost', '127.0.0.1');
  Object.assign(sandbox, { url, baseUrl: `${url}/v1` });
  return sandbox;
}

function must(rec: Rec | undefined): Rec {
  if (!rec) throw Object.assign(new Error('Not found'), { statusCode: 404 });
  return rec;
}

function sortRows(rows: Rec[], sort: string | undefined, legacyDesc: boolean): Rec[] {
  const keys = (sort ?? 'created_at')
    .split(',')
    .filter(Boolean)
    .map((part) => {
      const [field, dir] = part.split(':');
      return { field: field ?? 'created_at', desc: dir === 'desc' || (dir === undefined && legacyDesc) };
    });
  const cmpIds = (a: Rec, b: Rec) => (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0);
  return [...rows].sort((a, b) => {
    for (const { field, desc } of keys) {
      const av = a[field];
      const bv = b[field];
      if (av === bv) continue;
      if (av == null) return desc ? 1 : -1;
      if (bv == null) return desc ? -1 : 1;
      const c = field === 'id' ? cmpIds(a, b) : av < bv ? -1 : 1;
      return desc ? -c : c;
    }
    return cmpIds(a, b);
  });
}

/** The object key inside an `upload_url`: accepts `url/key`, `url//key` and a URL-encoded key. */
function uploadKey(uploadUrl: string, storageBase: string): string | undefined {
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

function fileExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
