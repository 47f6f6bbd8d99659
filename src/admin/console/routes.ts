import { createHash, timingSafeEqual } from 'node:crypto';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type Provider from 'oidc-provider';
import { newUser } from '../../accounts/users.ts';
import type { Audit } from '../../audit/audit.ts';
import { AUDIT_EVENT_TYPES, type AuditEventType } from '../../audit/types.ts';
import { CurfewError } from '../../http/errors.ts';
import { renderPage } from '../../http/views.ts';
import { BACKCHANNEL_EVENT } from '../../logout/logout-token.ts';
import type { MfaService } from '../../mfa/service.ts';
import { ACR } from '../../oidc/claims.ts';
import { internalRp } from '../../oidc/internal-rp.ts';
import type { PolicyChange } from '../../sessions/change-policy.ts';
import { expiresAt, ssoDeadlines } from '../../sessions/deadlines.ts';
import { explain } from '../../sessions/effective-limits.ts';
import type { Policy } from '../../sessions/policy-types.ts';
import { validatePolicy } from '../../sessions/policy-validate.ts';
import type { SessionService, SessionStatus } from '../../sessions/service.ts';
import type { IdentifierHasher } from '../../store/identifier-hash.ts';
import { ConflictError, type Store } from '../../store/types.ts';
import { userCreateSchema } from '../schemas.ts';
import { mayAdminister } from './console-admin.ts';
import { consoleClientId, consoleClientSecret, isConsoleClient } from './console-client.ts';
import type { ConsoleSession, ConsoleSessions } from './console-sessions.ts';
import { sessionTimelineRoute } from './session-timeline.ts';
import { compliancePageData } from '../../compliance/console-page.ts';
import type { Compliance } from '../../compliance/routes.ts';

declare module 'koa' {
  interface DefaultState {
    console?: ConsoleSession;
    consoleStatus?: SessionStatus;
  }
}

export interface ConsoleDeps {
  provider: Provider;
  store: Store;
  sessions: SessionService;
  mfa: MfaService;
  audit: Audit;
  hash: IdentifierHasher;
  consoleSessions: ConsoleSessions;
  internalBase: () => string;
  publicJwks: JSONWebKeySet;
  changePolicy(org: string, policy: Policy, actor: string): Promise<PolicyChange | undefined>;
  disableUser(userId: string): Promise<void>;
  /** SPEC §13: the evidence page and its control-test button. */
  compliance?: Compliance;
}

const forms = bodyParser({ enableTypes: ['form'], formLimit: '64kb' });
const iso = (ms: number) => new Date(ms).toISOString();
const field = (ctx: Context, name: string) => {
  const value = ((ctx.request as unknown as { body?: Record<string, unknown> }).body ?? {})[name];
  return typeof value === 'string' ? value : '';
};

/**
 * The admin console (SPEC §11): an RP of Curfew like any other — it signs in with the code
 * flow and PKCE, asks for TOTP (acr_values), is subject to the admin role's policy on every
 * page (its own RP session is checked, as activity), and receives back-channel logout.
 */
export function consoleRoutes(deps: ConsoleDeps): Router {
  const { store, sessions, audit, consoleSessions: cs } = deps;
  const router = new Router({ prefix: '/admin' });
  const issuer = deps.provider.issuer;
  const rp = internalRp({
    provider: deps.provider,
    clientId: (ctx) => consoleClientId(String(ctx.query.org ?? '')),
    clientSecret: (clientId) => consoleClientSecret(deps.hash, clientId),
    redirectUri: `${issuer}/admin/callback`,
    internalBase: deps.internalBase,
    publicJwks: deps.publicJwks,
    cookie: 'curfew.console.signin',
  });
  const jwks = createLocalJWKSet(deps.publicJwks);

  const page = (ctx: Context, view: string, data: Record<string, unknown>, status = 200) =>
    renderPage(ctx, `console/${view}`, { org: ctx.state.console!.org, username: ctx.state.console!.username, csrf: ctx.state.console!.csrf, status: ctx.state.consoleStatus, ...data }, status);

  async function requireConsole(ctx: Context, next: Next): Promise<void> {
    const session = await cs.load(ctx);
    if (!session) return ctx.redirect('/admin');
    // Re-read on every page: a user demoted or disabled since signing in is signed out of the
    // console before anything is read or written, and the refused request is no activity.
    if (!mayAdminister(await store.directory.getUser(session.user), session.org)) {
      await cs.destroy(ctx);
      return ctx.redirect('/admin?ended=1');
    }
    // Every page is activity of the console's RP session — and dies with it.
    const status = (await cs.ended(session.sid)) ? ({ active: false } as const) : await sessions.statusBySid(session.sid, session.clientId, 'active');
    if (!status.active) {
      await cs.destroy(ctx);
      return ctx.redirect('/admin?ended=1');
    }
    if (ctx.method === 'POST' && !csrfConsole(ctx, session)) throw new CurfewError('csrf_failed', 403, 'The form could not be verified. Reload the page and try again.');
    ctx.state.console = session;
    ctx.state.consoleStatus = status;
    await next();
  }
  // The console session's own token, echoed by every form; compared in constant time.
  const csrfConsole = (ctx: Context, session: ConsoleSession) => {
    const digest = (v: string) => createHash('sha256').update(v).digest();
    return timingSafeEqual(digest(field(ctx, 'csrf')), digest(session.csrf));
  };
  const actor = (ctx: Context) => `user:${ctx.state.console!.user}`;
  const written = (ctx: Context, action: string, data: Record<string, unknown>) =>
    audit({ type: 'admin.write', org: ctx.state.console!.org, actor: actor(ctx), data: { action, ...data } });

  router.get('/', async (ctx) => {
    if (await cs.load(ctx)) return ctx.redirect('/admin/policy');
    renderPage(ctx, 'console/signin', { ended: ctx.query.ended !== undefined, org: typeof ctx.query.org === 'string' ? ctx.query.org : '' });
  });

  router.get('/login', async (ctx) => {
    const org = typeof ctx.query.org === 'string' ? ctx.query.org : '';
    if (!org || !(await store.directory.getClient(consoleClientId(org)))) {
      renderPage(ctx, 'console/signin', { error: 'Unknown organization.', org }, 404);
      return;
    }
    rp.begin(ctx, { acr_values: ACR.mfa });
  });

  router.get('/callback', async (ctx) => {
    const { claims, idToken, clientId } = await rp.complete(ctx);
    const user = await store.directory.getUser(String(claims.sub));
    if (!user || !mayAdminister(user, user.org) || claims.acr !== ACR.mfa || consoleClientId(user.org) !== clientId) {
      renderPage(ctx, 'console/denied', {}, 403);
      return;
    }
    await cs.create(ctx, { org: user.org, user: user.id, username: user.username, clientId, sid: String(claims.sid), idToken });
    ctx.redirect('/admin/policy');
  });

  // OIDC Back-Channel Logout 1.0 §2.5, as the console's RP endpoint.
  router.post('/backchannel-logout', forms, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    try {
      const { payload } = await jwtVerify(field(ctx, 'logout_token'), jwks, { issuer, typ: 'logout+jwt' });
      const events = payload.events as Record<string, unknown> | undefined;
      const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
      if (!events?.[BACKCHANNEL_EVENT] || 'nonce' in payload || typeof payload.sid !== 'string' || !aud || !isConsoleClient(aud)) throw new Error('not a logout token');
      await cs.endSid(payload.sid);
      ctx.status = 200;
    } catch {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request' };
    }
  });

  router.post('/logout', forms, requireConsole, async (ctx) => {
    const session = ctx.state.console!;
    await cs.destroy(ctx);
    ctx.redirect(`${issuer}/session/end?${new URLSearchParams({ client_id: session.clientId, id_token_hint: session.idToken, post_logout_redirect_uri: `${issuer}/admin` })}`);
  });

  // Compliance evidence (SPEC §13)
  router.get('/compliance', requireConsole, async (ctx) => {
    if (!deps.compliance) throw new CurfewError('not_found', 404, 'not found');
    const { status, data } = await compliancePageData(deps.compliance, ctx.state.console!.org, ctx.query, await store.now());
    page(ctx, 'compliance', { ...data, started: ctx.query.started !== undefined, busy: ctx.query.busy !== undefined }, status);
  });
  router.post('/compliance/control-test', forms, requireConsole, async (ctx) => {
    if (!deps.compliance) throw new CurfewError('not_found', 404, 'not found');
    const started = deps.compliance.startRun(ctx.state.console!.org, actor(ctx));
    ctx.redirect(started ? '/admin/compliance?started=1' : '/admin/compliance?busy=1');
  });

  // Policy, with the explain preview
  router.get('/policy', requireConsole, async (ctx) => {
    const org = (await store.directory.getOrg(ctx.state.console!.org))!;
    page(ctx, 'policy', { policy: JSON.stringify(org.policy, null, 2), errors: [], saved: ctx.query.saved !== undefined });
  });
  router.post('/policy', forms, requireConsole, async (ctx) => {
    const orgId = ctx.state.console!.org;
    const text = field(ctx, 'policy');
    let input: unknown;
    try {
      input = JSON.parse(text);
    } catch (err) {
      page(ctx, 'policy', { policy: text, errors: [{ field: '(policy)', message: `not valid JSON: ${(err as Error).message}` }], saved: false }, 400);
      return;
    }
    const [clients, users] = await Promise.all([store.directory.listClients(orgId), store.directory.listUsers(orgId)]);
    const result = validatePolicy(input, { clients: clients.map((c) => c.client_id), roles: [...new Set(['admin', ...users.flatMap((u) => u.roles)])] });
    if (!result.ok) {
      page(ctx, 'policy', { policy: text, errors: result.errors, saved: false }, 400);
      return;
    }
    await deps.changePolicy(orgId, result.policy, actor(ctx));
    ctx.redirect('/admin/policy?saved');
  });
  router.get('/explain', requireConsole, async (ctx) => {
    const orgId = ctx.state.console!.org;
    const name = String(ctx.query.user ?? '').trim().toLowerCase();
    const user = (await store.directory.findUserByName(orgId, name)) ?? (await store.directory.getUser(name));
    if (!user || user.org !== orgId) throw new CurfewError('not_found', 404, 'no such user in this organization');
    const client = typeof ctx.query.client === 'string' && ctx.query.client ? ctx.query.client : undefined;
    const ip = typeof ctx.query.ip === 'string' && ctx.query.ip ? ctx.query.ip : undefined;
    const org = (await store.directory.getOrg(orgId))!;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = explain(org.policy, { roles: user.roles, ...(client ? { client } : {}), ...(ip ? { ip } : {}) });
  });

  // Sessions
  router.get('/sessions', requireConsole, async (ctx) => {
    const orgId = ctx.state.console!.org;
    const filter = typeof ctx.query.user === 'string' && ctx.query.user ? ctx.query.user.toLowerCase() : '';
    const user = filter ? await store.directory.findUserByName(orgId, filter) : undefined;
    const list = filter && !user ? [] : await sessions.list(orgId, user ? { user: user.id } : {});
    const names = new Map((await store.directory.listUsers(orgId)).map((u) => [u.id, u.username]));
    page(ctx, 'sessions', {
      filter,
      sessions: list.map((s) => ({
        id: s.id,
        username: names.get(s.user) ?? s.user,
        signedInAt: iso(s.signedInAt),
        expiresAt: iso(expiresAt(ssoDeadlines(s))),
        clients: Object.values(s.rps).filter((r) => r.endedAt === undefined).map((r) => r.client).join(', '),
      })),
    });
  });
  sessionTimelineRoute(router, { store, requireConsole, page });
  router.post('/sessions/:id/revoke', forms, requireConsole, async (ctx) => {
    const session = await sessions.get(ctx.params.id!);
    if (!session || session.org !== ctx.state.console!.org) throw new CurfewError('not_found', 404, 'no such session');
    await sessions.end(session.id, 'admin');
    await written(ctx, 'session.revoke', { target: session.id });
    ctx.redirect('/admin/sessions');
  });

  // Users
  const showUsers = async (ctx: Context, errors: Array<{ field: string; message: string }> = [], status = 200) => {
    const users = await store.directory.listUsers(ctx.state.console!.org);
    const enrolled = await Promise.all(users.map((u) => deps.mfa.isEnrolled(u.id)));
    page(ctx, 'users', { users: users.map((u, i) => ({ id: u.id, username: u.username, roles: u.roles.join(', '), disabled: u.disabled, totp: enrolled[i] })), errors }, status);
  };
  router.get('/users', requireConsole, (ctx) => showUsers(ctx));
  router.post('/users', forms, requireConsole, async (ctx) => {
    const parsed = userCreateSchema.safeParse({
      username: field(ctx, 'username'),
      password: field(ctx, 'password'),
      roles: field(ctx, 'roles').split(',').map((r) => r.trim()).filter(Boolean),
    });
    if (!parsed.success) return showUsers(ctx, parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })), 400);
    const user = await newUser(ctx.state.console!.org, parsed.data);
    try {
      await store.directory.putUser(user);
    } catch (err) {
      if (err instanceof ConflictError) return showUsers(ctx, [{ field: 'username', message: 'is taken' }], 400);
      throw err;
    }
    await written(ctx, 'user.create', { target: user.id, after: { username: user.username, roles: user.roles } });
    ctx.redirect('/admin/users');
  });
  router.post('/users/:id/:action', forms, requireConsole, async (ctx) => {
    const user = await store.directory.getUser(ctx.params.id!);
    if (!user || user.org !== ctx.state.console!.org) throw new CurfewError('not_found', 404, 'no such user');
    switch (ctx.params.action) {
      case 'disable':
        await deps.disableUser(user.id);
        break;
      case 'enable':
        await store.directory.putUser({ ...user, disabled: false });
        break;
      case 'totp-reset':
        await deps.mfa.reset(user.id);
        break;
      default:
        throw new CurfewError('not_found', 404, 'no such action');
    }
    await written(ctx, `user.${ctx.params.action}`, { target: user.id, before: { disabled: user.disabled } });
    ctx.redirect('/admin/users');
  });

  // Clients, audit, deliveries
  router.get('/clients', requireConsole, async (ctx) => {
    const clients = (await store.directory.listClients(ctx.state.console!.org)).filter((c) => !isConsoleClient(c.client_id));
    page(ctx, 'clients', { clients: clients.map((c) => ({ id: c.client_id, redirect: c.redirect_uris.join(' '), backchannel: c.backchannel_logout_uri ?? '—', type: c.client_secret_hash ? 'confidential' : 'public' })) });
  });
  router.get('/audit', requireConsole, async (ctx) => {
    const type = typeof ctx.query.type === 'string' && (AUDIT_EVENT_TYPES as readonly string[]).includes(ctx.query.type) ? (ctx.query.type as AuditEventType) : undefined;
    const cursor = typeof ctx.query.cursor === 'string' ? ctx.query.cursor : undefined;
    const result = await store.audit.query({ org: ctx.state.console!.org, limit: 50, ...(type ? { type } : {}), ...(cursor ? { cursor } : {}) });
    page(ctx, 'audit', {
      types: AUDIT_EVENT_TYPES,
      type: type ?? '',
      next: result.nextCursor ? `/admin/audit?${new URLSearchParams({ ...(type ? { type } : {}), cursor: result.nextCursor })}` : '',
      events: result.items.map((e) => ({ at: e.at, type: e.type, actor: e.actor ?? '', user: e.user ?? '', client: e.client ?? '', data: e.data ? JSON.stringify(e.data) : '' })),
    });
  });
  router.get('/deliveries', requireConsole, async (ctx) => {
    const state = ctx.query.state === 'dead' ? 'dead' : 'pending';
    const list = await store.deliveries.list(ctx.state.console!.org, state);
    page(ctx, 'deliveries', { state, deliveries: list.map((d) => ({ id: d.id, client: d.client, reason: d.reason, attempts: d.attempts, error: d.lastError ?? '', next: iso(d.nextAttemptAt) })) });
  });
  router.post('/deliveries/:id/retry', forms, requireConsole, async (ctx) => {
    const delivery = await store.deliveries.get(ctx.params.id!);
    if (!delivery || delivery.org !== ctx.state.console!.org) throw new CurfewError('not_found', 404, 'no such delivery');
    await store.deliveries.revive(delivery.id);
    await written(ctx, 'delivery.retry', { target: delivery.id });
    ctx.redirect('/admin/deliveries?state=dead');
  });

  return router;
}
