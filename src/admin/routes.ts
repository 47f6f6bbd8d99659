import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import { AUDIT_EVENT_TYPES, type AuditEventType } from '../audit/types.ts';
import { CurfewError, ValidationError } from '../errors.ts';
import { explain } from '../sessions/effective-limits.ts';
import { requireAdminToken, type ConsoleAuth } from './auth.ts';
import { openApiDocument } from './openapi.ts';
import { adminOperations, findUser, type AdminActor, type OperationDeps } from './operations/index.ts';
import { notFound } from './operations/context.ts';
import { parse } from './operations/parse.ts';
import { previewView, publicClient, publicUser, sessionView } from './operations/views.ts';
import { auditQuerySchema, deliveriesQuerySchema, explainQuerySchema, sessionsQuerySchema } from './schemas.ts';
import { adminOf } from './request-state.ts';

/** The operations' dependencies, and what the HTTP adapter itself needs. */
export interface AdminDeps extends OperationDeps {
  provider: Provider;
  /** The console's sessions, which may call the API too (with their CSRF token for writes). */
  console?: Omit<ConsoleAuth, 'directory'>;
  /** Largest JSON body read (`bodyLimits.adminApiKb`). */
  bodyLimitKb: number;
}


const body = (ctx: Context): unknown => ctx.request.body;

/**
 * The admin JSON API (SPEC §11, external contract: paths). Every route is scoped to the org of
 * the caller's token: another org's resources answer 404, as if they did not exist. Every write
 * is audited with its actor, and the before and after.
 */
export function adminRoutes(deps: AdminDeps): Router {
  const { store, sessions } = deps;
  const router = new Router({ prefix: '/admin/api/v1' });
  const json = bodyParser({ enableTypes: ['json'], jsonLimit: `${deps.bodyLimitKb}kb`, onError: (err) => {
    // raw-body marks a body over the limit with 413; anything else it refuses is unreadable JSON.
    if ((err as { status?: unknown }).status === 413) throw new CurfewError('payload_too_large', `the body is larger than ${deps.bodyLimitKb} KB`);
    throw new CurfewError('invalid_request', 'the body is not valid JSON');
  } });

  router.get('/openapi.json', (ctx) => {
    ctx.body = openApiDocument();
  });

  const auth = requireAdminToken(deps.provider, deps.console && { ...deps.console, directory: store.directory });
  const ownOrg = async (ctx: Context, next: Next) => {
    if (ctx.params.org !== adminOf(ctx).org || !(await store.directory.getOrg(ctx.params.org!))) throw notFound('org');
    ctx.set('Cache-Control', 'no-store');
    await next();
  };
  const ops = adminOperations(deps);
  const by = (ctx: Context): AdminActor => ({ org: ctx.params.org!, actor: adminOf(ctx).actor });
  /** SPEC §11: `?user=` names a user by id or username; an unknown name matches nothing. */
  const userIdOf = async (org: string, ref: string | undefined) => (ref === undefined ? undefined : ((await findUser(deps, org, ref))?.id ?? ref));

  // Policy
  router.get('/orgs/:org/policy', auth, ownOrg, async (ctx) => {
    ctx.body = (await store.directory.getOrg(ctx.params.org!))!.policy;
  });
  router.put('/orgs/:org/policy', auth, ownOrg, json, async (ctx) => {
    ctx.body = await ops.changePolicy(by(ctx), body(ctx));
  });
  // A dry run of the PUT above: validated alike (400 with `fields`), it changes nothing.
  router.post('/orgs/:org/policy/preview', auth, ownOrg, json, async (ctx) => {
    const { policy, preview } = await ops.previewPolicy(by(ctx), body(ctx));
    ctx.body = { policy, preview: previewView(preview) };
  });
  router.get('/orgs/:org/policy/explain', auth, ownOrg, async (ctx) => {
    const q = parse(explainQuerySchema, ctx.query);
    const user = await findUser(deps, ctx.params.org!, q.user);
    if (!user) throw notFound('user');
    if (q.client !== undefined) {
      const client = await store.directory.getClient(q.client);
      if (!client || client.org !== ctx.params.org) throw notFound('client');
    }
    const policy = (await store.directory.getOrg(ctx.params.org!))!.policy;
    ctx.body = explain(policy, { roles: user.roles, ...(q.client ? { client: q.client } : {}), ...(q.ip ? { ip: q.ip } : {}) });
  });

  // Sessions
  router.get('/orgs/:org/sessions', auth, ownOrg, async (ctx) => {
    const { user, ...q } = parse(sessionsQuerySchema, ctx.query);
    const userId = await userIdOf(ctx.params.org!, user);
    ctx.body = { sessions: (await sessions.list(ctx.params.org!, { ...q, ...(userId ? { user: userId } : {}) })).map(sessionView) };
  });
  router.delete('/orgs/:org/sessions/:id', auth, ownOrg, async (ctx) => {
    await ops.revokeSession(by(ctx), ctx.params.id!);
    ctx.status = 204;
  });
  router.delete('/orgs/:org/users/:user/sessions', auth, ownOrg, async (ctx) => {
    ctx.body = { ended: (await ops.revokeUserSessions(by(ctx), ctx.params.user!)).ended };
  });

  // Users
  router.get('/orgs/:org/users', auth, ownOrg, async (ctx) => {
    ctx.body = { users: (await store.directory.listUsers(ctx.params.org!)).map(publicUser) };
  });
  router.post('/orgs/:org/users', auth, ownOrg, json, async (ctx) => {
    ctx.body = await ops.createUser(by(ctx), body(ctx));
    ctx.status = 201;
  });
  router.patch('/orgs/:org/users/:user', auth, ownOrg, json, async (ctx) => {
    ctx.body = await ops.updateUser(by(ctx), ctx.params.user!, body(ctx));
  });
  router.delete('/orgs/:org/users/:user', auth, ownOrg, async (ctx) => {
    await ops.deleteUser(by(ctx), ctx.params.user!);
    ctx.status = 204;
  });
  // Sets the password sent, or resets it to a generated one (returned once) when none is sent.
  router.post('/orgs/:org/users/:user/password', auth, ownOrg, json, async (ctx) => {
    const result = await ops.setPassword(by(ctx), ctx.params.user!, body(ctx));
    if (result.password === undefined) ctx.status = 204;
    else ctx.body = result;
  });
  router.post('/orgs/:org/users/:user/totp/reset', auth, ownOrg, async (ctx) => {
    await ops.resetTotp(by(ctx), ctx.params.user!);
    ctx.status = 204;
  });

  // Clients
  router.get('/orgs/:org/clients', auth, ownOrg, async (ctx) => {
    ctx.body = { clients: (await store.directory.listClients(ctx.params.org!)).map(publicClient) };
  });
  router.post('/orgs/:org/clients', auth, ownOrg, json, async (ctx) => {
    const { client, client_secret } = await ops.createClient(by(ctx), body(ctx));
    ctx.status = 201;
    ctx.body = { ...client, ...(client_secret ? { client_secret } : {}) };
  });
  router.patch('/orgs/:org/clients/:client', auth, ownOrg, json, async (ctx) => {
    ctx.body = await ops.updateClient(by(ctx), ctx.params.client!, body(ctx));
  });
  router.delete('/orgs/:org/clients/:client', auth, ownOrg, async (ctx) => {
    await ops.deleteClient(by(ctx), ctx.params.client!);
    ctx.status = 204;
  });
  // A generated secret, shown in this answer only: the store keeps its hash.
  router.post('/orgs/:org/clients/:client/secret', auth, ownOrg, async (ctx) => {
    const { client, client_secret } = await ops.rotateClientSecret(by(ctx), ctx.params.client!);
    ctx.body = { ...client, client_secret };
  });

  // Audit
  router.get('/orgs/:org/audit', auth, ownOrg, async (ctx) => {
    const q = parse(auditQuerySchema, ctx.query);
    if (q.type !== undefined && !(AUDIT_EVENT_TYPES as readonly string[]).includes(q.type)) {
      throw new ValidationError([{ field: 'type', message: `unknown event type; one of ${AUDIT_EVENT_TYPES.join(', ')}` }]);
    }
    const page = await store.audit.query({
      org: ctx.params.org!, limit: q.limit,
      ...(q.type ? { type: q.type as AuditEventType } : {}), ...(q.user ? { user: (await userIdOf(ctx.params.org!, q.user)) ?? q.user } : {}), ...(q.session ? { session: q.session } : {}),
      ...(q.since ? { since: new Date(q.since).toISOString() } : {}), ...(q.cursor ? { cursor: q.cursor } : {}),
    });
    ctx.body = page;
  });

  // Deliveries
  router.get('/orgs/:org/deliveries', auth, ownOrg, async (ctx) => {
    const q = parse(deliveriesQuerySchema, ctx.query);
    ctx.body = { deliveries: await store.deliveries.list(ctx.params.org!, q.state) };
  });
  router.post('/orgs/:org/deliveries/:id/retry', auth, ownOrg, async (ctx) => {
    ctx.status = 202;
    ctx.body = await ops.retryDelivery(by(ctx), ctx.params.id!);
  });

  return router;
}
