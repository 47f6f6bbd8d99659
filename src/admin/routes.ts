import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { z } from 'zod';
import { hashPassword } from '../accounts/passwords.ts';
import { newUser } from '../accounts/users.ts';
import type { Audit } from '../audit/audit.ts';
import { AUDIT_EVENT_TYPES, type AuditEventType } from '../audit/types.ts';
import { CurfewError, ValidationError } from '../http/errors.ts';
import { checkBackchannelUri } from '../logout/ssrf.ts';
import type { MfaService } from '../mfa/service.ts';
import type { ClientSecrets } from '../orgs/client-secret.ts';
import type { ClientRecord, User } from '../orgs/types.ts';
import { clientRecord } from '../orgs/client-validate.ts';
import { deleteClient } from '../orgs/delete-client.ts';
import { expiresAt, rpDeadlines, ssoDeadlines } from '../sessions/deadlines.ts';
import { explain } from '../sessions/effective-limits.ts';
import type { PolicyChange } from '../sessions/change-policy.ts';
import type { Policy } from '../sessions/policy-types.ts';
import { validatePolicy } from '../sessions/policy-validate.ts';
import type { SessionService } from '../sessions/service.ts';
import type { SsoSession } from '../sessions/types.ts';
import { CLIENT_ID_UNAVAILABLE } from '../store/client-tombstone.ts';
import { ConflictError, type Store } from '../store/types.ts';
import { requireAdminToken, type ConsoleAuth } from './auth.ts';
import { endConsoleSessions } from './console/console-admin.ts';
import { isConsoleClient } from './console/console-client.ts';
import { openApiDocument } from './openapi.ts';
import {
  auditQuerySchema,
  clientCreateSchema,
  clientPatchSchema,
  deliveriesQuerySchema,
  explainQuerySchema,
  fieldErrors,
  sessionsQuerySchema,
  userCreateSchema,
  userPatchSchema,
} from './schemas.ts';

export interface AdminDeps {
  provider: Provider;
  store: Store;
  sessions: SessionService;
  mfa: MfaService;
  audit: Audit;
  backchannelAllowlist: readonly string[];
  /** Hashes a created or changed client secret before it is stored. */
  clientSecrets: ClientSecrets;
  changePolicy(org: string, policy: Policy, actor: string): Promise<PolicyChange | undefined>;
  disableUser(userId: string): Promise<void>;
  deleteUser(userId: string): Promise<void>;
  /** The console's sessions, which may call the API too (with their CSRF token for writes). */
  console?: Omit<ConsoleAuth, 'directory'>;
}

const json = bodyParser({ enableTypes: ['json'], jsonLimit: '64kb', onError: () => {
  throw new CurfewError('invalid_request', 400, 'the body is not valid JSON');
} });

const notFound = (what: string) => new CurfewError('not_found', 404, `${what} not found`);

function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (!result.success) throw new ValidationError(fieldErrors(result.error));
  return result.data;
}

const body = (ctx: Context): unknown => (ctx.request as unknown as { body?: unknown }).body;

/** Users and clients as the API shows them: never a password hash or a client secret. */
const publicUser = ({ passwordHash: _hash, ...user }: User) => user;
const publicClient = ({ client_secret_hash, ...client }: ClientRecord) => ({ ...client, hasSecret: client_secret_hash !== undefined, internal: isConsoleClient(client.client_id) });

function sessionView(s: SsoSession) {
  const iso = (ms: number) => new Date(ms).toISOString();
  const sso = ssoDeadlines(s);
  return {
    id: s.id,
    user: s.user,
    ip: s.ip,
    signedInAt: iso(s.signedInAt),
    lastActiveAt: iso(s.lastActiveAt),
    idleExpiresAt: iso(sso.idleAt),
    absoluteExpiresAt: iso(sso.absoluteAt),
    expiresAt: iso(expiresAt(sso)),
    rpSessions: Object.values(s.rps)
      .filter((rp) => rp.endedAt === undefined)
      .map((rp) => {
        const d = rpDeadlines(s, rp);
        return { client: rp.client, sid: rp.sid, startedAt: iso(rp.startedAt), lastActiveAt: iso(rp.lastActiveAt), idleExpiresAt: iso(d.idleAt), absoluteExpiresAt: iso(d.absoluteAt), expiresAt: iso(expiresAt(d)) };
      }),
  };
}

/**
 * The admin JSON API (SPEC §11, external contract: paths). Every route is scoped to the org of
 * the caller's token: another org's resources answer 404, as if they did not exist. Every write
 * is audited with its actor, and the before and after.
 */
export function adminRoutes(deps: AdminDeps): Router {
  const { store, sessions, audit } = deps;
  const router = new Router({ prefix: '/admin/api/v1' });

  router.get('/openapi.json', (ctx) => {
    ctx.body = openApiDocument();
  });

  const auth = requireAdminToken(deps.provider, deps.console && { ...deps.console, directory: store.directory });
  const ownOrg = async (ctx: Context, next: Next) => {
    if (ctx.params.org !== ctx.state.admin!.org || !(await store.directory.getOrg(ctx.params.org!))) throw notFound('org');
    ctx.set('Cache-Control', 'no-store');
    await next();
  };
  const actor = (ctx: Context) => ctx.state.admin!.actor;
  const written = (ctx: Context, action: string, data: { before?: unknown; after?: unknown; target?: string }) =>
    audit({ type: 'admin.write', org: ctx.params.org!, actor: actor(ctx), data: { action, ...data } });

  async function userOf(ctx: Context): Promise<User> {
    const user = await store.directory.getUser(ctx.params.user!);
    if (!user || user.org !== ctx.params.org) throw notFound('user');
    return user;
  }
  async function clientOf(ctx: Context): Promise<ClientRecord> {
    const client = await store.directory.getClient(ctx.params.client!);
    if (!client || client.org !== ctx.params.org) throw notFound('client');
    return client;
  }
  /**
   * The console's own client is Curfew's (issue 10 item 15): an admin API client that could
   * change its redirect or logout URIs, or delete it, would take over or lock out the console.
   */
  function editableClientOf(client: ClientRecord): ClientRecord {
    if (isConsoleClient(client.client_id)) throw new CurfewError('conflict', 409, `${client.client_id} is the admin console's own client: Curfew manages it, and it cannot be changed or deleted`);
    return client;
  }
  function checkUri(uri: string | undefined): void {
    if (!uri) return;
    const check = checkBackchannelUri(uri, deps.backchannelAllowlist);
    if (!check.ok) throw new ValidationError([{ field: 'backchannel_logout_uri', message: check.reason }]);
  }
  async function policyContext(orgId: string) {
    const [clients, users] = await Promise.all([store.directory.listClients(orgId), store.directory.listUsers(orgId)]);
    return { clients: clients.map((c) => c.client_id), roles: [...new Set(['admin', ...users.flatMap((u) => u.roles)])] };
  }

  // Policy
  router.get('/orgs/:org/policy', auth, ownOrg, async (ctx) => {
    ctx.body = (await store.directory.getOrg(ctx.params.org!))!.policy;
  });
  router.put('/orgs/:org/policy', auth, ownOrg, json, async (ctx) => {
    const result = validatePolicy(body(ctx), await policyContext(ctx.params.org!));
    if (!result.ok) throw new ValidationError(result.errors, 'the policy is invalid; nothing was changed');
    const change = await deps.changePolicy(ctx.params.org!, result.policy, actor(ctx));
    ctx.body = { policy: result.policy, recomputedSessions: change?.recomputed ?? 0, endedSessions: change?.ended ?? 0 };
  });
  router.get('/orgs/:org/policy/explain', auth, ownOrg, async (ctx) => {
    const q = parse(explainQuerySchema, ctx.query);
    const user = (await store.directory.getUser(q.user)) ?? (await store.directory.findUserByName(ctx.params.org!, q.user.toLowerCase()));
    if (!user || user.org !== ctx.params.org) throw notFound('user');
    if (q.client !== undefined) {
      const client = await store.directory.getClient(q.client);
      if (!client || client.org !== ctx.params.org) throw notFound('client');
    }
    const policy = (await store.directory.getOrg(ctx.params.org!))!.policy;
    ctx.body = explain(policy, { roles: user.roles, ...(q.client ? { client: q.client } : {}), ...(q.ip ? { ip: q.ip } : {}) });
  });

  // Sessions
  router.get('/orgs/:org/sessions', auth, ownOrg, async (ctx) => {
    const q = parse(sessionsQuerySchema, ctx.query);
    ctx.body = { sessions: (await sessions.list(ctx.params.org!, q)).map(sessionView) };
  });
  router.delete('/orgs/:org/sessions/:id', auth, ownOrg, async (ctx) => {
    const session = await sessions.get(ctx.params.id!);
    if (!session || session.org !== ctx.params.org) throw notFound('session');
    const ended = await sessions.end(session.id, 'admin');
    if (!ended) throw notFound('session');
    await written(ctx, 'session.revoke', { target: session.id, before: sessionView(session) });
    ctx.status = 204;
  });
  router.delete('/orgs/:org/users/:user/sessions', auth, ownOrg, async (ctx) => {
    const user = await userOf(ctx);
    const ended = await sessions.endUserSessions(user.id, 'admin');
    await written(ctx, 'user.sessions.revoke', { target: user.id, after: { ended } });
    ctx.body = { ended };
  });

  // Users
  router.get('/orgs/:org/users', auth, ownOrg, async (ctx) => {
    ctx.body = { users: (await store.directory.listUsers(ctx.params.org!)).map(publicUser) };
  });
  router.post('/orgs/:org/users', auth, ownOrg, json, async (ctx) => {
    const input = parse(userCreateSchema, body(ctx));
    const user = await newUser(ctx.params.org!, input);
    try {
      await store.directory.putUser(user);
    } catch (err) {
      if (err instanceof ConflictError) throw new ValidationError([{ field: err.field, message: err.message }], 'conflict');
      throw err;
    }
    await written(ctx, 'user.create', { target: user.id, after: publicUser(user) });
    ctx.status = 201;
    ctx.body = publicUser(user);
  });
  router.patch('/orgs/:org/users/:user', auth, ownOrg, json, async (ctx) => {
    const before = await userOf(ctx);
    const patch = parse(userPatchSchema, body(ctx));
    const after: User = {
      ...before,
      ...(patch.roles ? { roles: patch.roles } : {}),
      ...(patch.password ? { passwordHash: await hashPassword(patch.password) } : {}),
    };
    await store.directory.putUser(after);
    // Disabling ends every session of the user (SPEC §9, reason user_disabled).
    if (patch.disabled === true && !before.disabled) await deps.disableUser(before.id);
    else if (patch.disabled === false && before.disabled) await store.directory.putUser({ ...after, disabled: false });
    const now = (await store.directory.getUser(before.id))!;
    // An admin no more: their console sessions end now (issue 10 item 2).
    const endedConsoleSessions = before.roles.includes('admin') && !now.roles.includes('admin') ? await endConsoleSessions(sessions, now) : 0;
    await written(ctx, 'user.update', { target: before.id, before: publicUser(before), after: { ...publicUser(now), ...(patch.password ? { passwordChanged: true } : {}), ...(endedConsoleSessions ? { endedConsoleSessions } : {}) } });
    ctx.body = publicUser(now);
  });
  router.delete('/orgs/:org/users/:user', auth, ownOrg, async (ctx) => {
    const before = await userOf(ctx);
    await deps.deleteUser(before.id);
    await written(ctx, 'user.delete', { target: before.id, before: publicUser(before) });
    ctx.status = 204;
  });
  router.post('/orgs/:org/users/:user/totp/reset', auth, ownOrg, async (ctx) => {
    const user = await userOf(ctx);
    const enrolled = await deps.mfa.isEnrolled(user.id);
    await deps.mfa.reset(user.id);
    await written(ctx, 'user.totp.reset', { target: user.id, before: { enrolled }, after: { enrolled: false } });
    ctx.status = 204;
  });

  // Clients
  router.get('/orgs/:org/clients', auth, ownOrg, async (ctx) => {
    ctx.body = { clients: (await store.directory.listClients(ctx.params.org!)).map(publicClient) };
  });
  router.post('/orgs/:org/clients', auth, ownOrg, json, async (ctx) => {
    const input = parse(clientCreateSchema, body(ctx));
    if (isConsoleClient(input.client_id)) throw new ValidationError([{ field: 'client_id', message: 'the curfew-console- prefix is reserved' }]);
    checkUri(input.backchannel_logout_uri);
    const client = clientRecord(input, ctx.params.org!, new Date().toISOString(), deps.clientSecrets);
    try {
      // One atomic step, one answer: whether this org, another org or a deleted client holds
      // the id is nobody's business but the holder's (issue 10 item 8).
      await store.directory.createClient(client);
    } catch (err) {
      if (err instanceof ConflictError) throw new CurfewError('conflict', 409, CLIENT_ID_UNAVAILABLE);
      throw err;
    }
    await written(ctx, 'client.create', { target: client.client_id, after: publicClient(client) });
    ctx.status = 201;
    ctx.body = publicClient(client);
  });
  router.patch('/orgs/:org/clients/:client', auth, ownOrg, json, async (ctx) => {
    const before = editableClientOf(await clientOf(ctx));
    const patch = parse(clientPatchSchema, body(ctx));
    checkUri(patch.backchannel_logout_uri);
    const { org: _org, token_endpoint_auth_method: _m, grant_types: _g, createdAt, ...current } = before;
    const after = clientRecord({ ...current, ...patch }, before.org, createdAt, deps.clientSecrets, before);
    try {
      await store.directory.putClient(after);
    } catch (err) {
      // Deleted since it was read: a change never brings a client back.
      if (err instanceof ConflictError) throw notFound('client');
      throw err;
    }
    await written(ctx, 'client.update', { target: before.client_id, before: publicClient(before), after: publicClient(after) });
    ctx.body = publicClient(after);
  });
  router.delete('/orgs/:org/clients/:client', auth, ownOrg, async (ctx) => {
    const before = editableClientOf(await clientOf(ctx));
    const result = await deleteClient({ directory: store.directory, sessions }, before);
    if (!result) throw notFound('client');
    await written(ctx, 'client.delete', { target: before.client_id, before: publicClient(result.deleted), after: { endedRpSessions: result.endedRpSessions } });
    ctx.status = 204;
  });

  // Audit
  router.get('/orgs/:org/audit', auth, ownOrg, async (ctx) => {
    const q = parse(auditQuerySchema, ctx.query);
    if (q.type !== undefined && !(AUDIT_EVENT_TYPES as readonly string[]).includes(q.type)) {
      throw new ValidationError([{ field: 'type', message: `unknown event type; one of ${AUDIT_EVENT_TYPES.join(', ')}` }]);
    }
    const page = await store.audit.query({
      org: ctx.params.org!, limit: q.limit,
      ...(q.type ? { type: q.type as AuditEventType } : {}), ...(q.user ? { user: q.user } : {}), ...(q.session ? { session: q.session } : {}),
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
    const delivery = await store.deliveries.get(ctx.params.id!);
    if (!delivery || delivery.org !== ctx.params.org) throw notFound('delivery');
    if (!(await store.deliveries.revive(delivery.id))) throw new CurfewError('conflict', 409, 'only dead deliveries can be retried');
    await written(ctx, 'delivery.retry', { target: delivery.id, before: { state: delivery.state, lastError: delivery.lastError }, after: { state: 'pending' } });
    ctx.status = 202;
    ctx.body = { id: delivery.id, state: 'pending' };
  });

  return router;
}
