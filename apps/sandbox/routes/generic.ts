import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiBase, type SandboxContext, validationFailed } from '../context.js';
import { present, RESOURCES, type ResourceSpec } from '../resources.js';
import { validate } from '../validation.js';
import { afterCreate, beforeWrite, defaults, syncArrival } from '../write-rules.js';

/**
 * The generic routes of every resource in RESOURCES (resources.ts): list, get, and (as the resource
 * allows) create, update (PATCH or PUT), archive (or DELETE) and unarchive, with the write rules of
 * write-rules.ts.
 */
export function resourceRoutes(api: FastifyInstance, ctx: SandboxContext): void {
  const { state } = ctx;
  // the generic resources
  for (const spec of Object.values(RESOURCES)) {
    if (spec.table === 'practitioners' || spec.table === 'users') {
      api.get<{ Params: { id: string } }>(`/${spec.path}/:id`, (req, reply) => getOne(req, reply, spec));
      continue;
    }
    api.get(`/${spec.path}`, (req, reply) => ctx.list(req, reply, spec, state.all(spec.table)));
    api.get<{ Params: { id: string } }>(`/${spec.path}/:id`, (req, reply) => getOne(req, reply, spec));
    if (spec.create)
      api.post<{ Body: Record<string, unknown> }>(`/${spec.path}`, (req, reply) => create(req, reply, spec));
    if (spec.update) {
      api.patch<{ Params: { id: string }; Body: Record<string, unknown> }>(
        `/${spec.path}/:id`,
        (req, reply) => update(req, reply, spec),
      );
      api.put<{ Params: { id: string }; Body: Record<string, unknown> }>(`/${spec.path}/:id`, (req, reply) =>
        update(req, reply, spec),
      );
    }
    if (spec.archive) {
      const archive = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
        const rec = state.get(spec.table, req.params.id);
        if (!rec) return reply.code(404).send({ message: 'Not found' });
        state.update(spec.table, rec.id, { archived_at: rec.archived_at ?? state.now() });
        return ctx.commit(req, reply, 204);
      };
      api.post(`/${spec.path}/:id/archive`, archive);
      api.delete(`/${spec.path}/:id`, archive);
    }
    if (spec.unarchive) {
      api.post<{ Params: { id: string } }>(`/${spec.path}/:id/unarchive`, async (req, reply) => {
        const rec = state.get(spec.table, req.params.id);
        if (!rec) return reply.code(404).send({ message: 'Not found' });
        return ctx.commit(
          req,
          reply,
          200,
          present(spec, state.update(spec.table, rec.id, { archived_at: null }), apiBase(req)),
        );
      });
    }
  }

  function getOne(req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, spec: ResourceSpec) {
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
    const extra = beforeWrite(state, spec.table, values, errors, undefined, req.ctx.userId);
    if (Object.keys(errors).length) return validationFailed(reply, errors);
    const rec = state.insert(spec.table, { ...defaults(spec.table), ...values, ...extra });
    afterCreate(state, spec.table, rec);
    return ctx.commit(req, reply, 201, present(spec, rec, apiBase(req)));
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
    const extra = beforeWrite(state, spec.table, values, errors, rec, req.ctx.userId);
    if (Object.keys(errors).length) return validationFailed(reply, errors);
    const updated = state.update(spec.table, rec.id, { ...values, ...extra });
    if (spec.table === 'attendees' && Object.hasOwn(values, 'arrived')) syncArrival(state, updated);
    return ctx.commit(req, reply, 200, present(spec, updated, apiBase(req)));
  }
}
