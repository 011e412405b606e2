import type { FastifyInstance } from 'fastify';
import { apiBase, must, type SandboxContext } from '../context.js';
import { present, RESOURCES, type ResourceSpec } from '../resources.js';

/**
 * Who the key is and what it may read (Cliniko's API documentation on practitioners, users and
 * settings): `GET /user`, `/settings/public`, `/users` (administrators only), active and inactive
 * practitioners.
 */
export function userRoutes(api: FastifyInstance, ctx: SandboxContext): void {
  const { state } = ctx;
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
    return ctx.list(req, reply, RESOURCES.users as ResourceSpec, state.all('users'));
  });

  // practitioners: the plain list holds active ones, inactive ones have their own path
  const practitioners = RESOURCES.practitioners as ResourceSpec;
  api.get('/practitioners', (req, reply) =>
    ctx.list(
      req,
      reply,
      practitioners,
      state.all('practitioners').filter((p) => p.active),
    ),
  );
  api.get('/practitioners/inactive', (req, reply) =>
    ctx.list(
      req,
      reply,
      practitioners,
      state.all('practitioners').filter((p) => !p.active),
    ),
  );
  api.get('/businesses/:id/practitioners', (req, reply) =>
    ctx.list(
      req,
      reply,
      practitioners,
      state.all('practitioners').filter((p) => p.active),
    ),
  );
}
