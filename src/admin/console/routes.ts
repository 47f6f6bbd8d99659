import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import type Provider from 'oidc-provider';
import { AUDIT_EVENT_TYPES, type AuditRecord } from '../../audit/types.ts';
import { CurfewError, ValidationError, type CurfewErrorCode } from '../../errors.ts';
import { renderPage } from '../../http/views.ts';
import { sendError } from '../../http/errors.ts';
import { verifyLogoutToken } from '../../logout/logout-token.ts';
import { ACR } from '../../oidc/claims.ts';
import { internalRp } from '../../oidc/internal-rp.ts';
import { expiresAt, ssoDeadlines } from '../../sessions/deadlines.ts';
import type { FieldError } from '../../sessions/policy-validate.ts';
import type { SsoSession } from '../../sessions/types.ts';
import type { IdentifierHasher } from '../../crypto/identifier-hash.ts';
import { adminOperations, findUser, policyContext, type AdminActor, type OperationDeps, type PreviewedSession } from '../operations/index.ts';
import type { PolicyPreview } from '../../sessions/preview-policy.ts';
import { explainView } from './explain-view.ts';
import { editRules, errorsByInput, formOf, inputId, inputOf, mergeErrors, parseRuleEdit, policyOfForm, readPolicyForm, type PolicyForm } from './policy-form.ts';
import { mayAdminister } from './console-admin.ts';
import { consoleClientId, consoleClientSecret, isConsoleClient } from './console-client.ts';
import { isInternalClient } from '../../orgs/internal-clients.ts';
import type { ConsoleSession, ConsoleSessions } from './console-sessions.ts';
import { sessionTimelineRoute } from './session-timeline.ts';
import { describeDeliveryError, describeEndReason } from './delivery-view.ts';
import { csvRow, detailPairs, findAuditEvents, parseAuditFilter } from './audit-view.ts';
import { compliancePageData } from '../../compliance/console-page.ts';
import type { Compliance } from '../../compliance/routes.ts';
import { bodyFields } from '../../http/body.ts';
import { consoleOf } from '../request-state.ts';

export interface ConsoleDeps extends OperationDeps {
  provider: Provider;
  /** Largest form read (`bodyLimits.consoleFormKb`). */
  bodyLimitKb: number;
  hash: IdentifierHasher;
  consoleSessions: ConsoleSessions;
  internalBase: () => string;
  publicJwks: JSONWebKeySet;
  /** SPEC §13: the evidence page and its control-test button. */
  compliance?: Compliance;
}

type PolicyView = 'form' | 'json';
/** What the policy page shows: the form (or the JSON typed), and what the last action found. */
interface PolicyPageState {
  view: PolicyView;
  /** The policy JSON shown, when no form was posted. */
  input?: unknown;
  /** The form as posted, kept as typed. */
  form?: PolicyForm;
  /** The JSON as typed. */
  text?: string;
  errors?: FieldError[];
  saved?: { recomputed: number | undefined; ended: number | undefined };
  preview?: Omit<PolicyPreview, 'affected'> & { affected: PreviewedSession[] };
  explain?: { asked: { user: string; client: string; ip: string }; errors: Record<string, string>; result?: ReturnType<typeof explainView> & { username: string; roles: string } };
}

/** The preview table lists at most this many sessions; its counts cover all of them. */
const PREVIEW_ROWS = 200;
/** An export holds at most this many events; a narrower filter reaches older ones. */
const AUDIT_EXPORT_LIMIT = 10_000;
const iso = (ms: number) => new Date(ms).toISOString();
/** For the messages the policy page places in markup it builds (errors beside their inputs). */
const escapeHtml = (v: string) => v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const DONE: Record<string, string> = {
  'revoked': 'The session was revoked; its apps are being told.',
  'user-created': 'The user was created.',
  'roles-saved': 'The roles were saved.',
  'password-set': 'The password was changed.',
  'sessions-revoked': "The user's sessions were revoked; their apps are being told.",
  'user-disabled': 'The user was disabled and their sessions ended.',
  'user-enabled': 'The user was enabled.',
  'totp-reset': 'The authenticator was reset: the user enrolls again at the next sign-in.',
  'user-deleted': 'The user was deleted and their sessions ended.',
  'client-created': 'The client was registered.',
  'client-saved': 'The client was saved.',
  'client-deleted': 'The client was deleted; its sessions ended.',
  'retried': 'The delivery was queued again.',
};
const doneMessage = (done: unknown) => (typeof done === 'string' && Object.hasOwn(DONE, done) ? DONE[done] : '');

/** A form's list field: one entry per line, comma or space. */
const list = (value: string) => value.split(/[\s,]+/).map((v) => v.trim()).filter(Boolean);
const field = (ctx: Context, name: string) => {
  const value = bodyFields(ctx)[name];
  return typeof value === 'string' ? value : '';
};

/**
 * The admin console (SPEC §11): an RP of Curfew like any other — it signs in with the code
 * flow and PKCE, asks for TOTP (acr_values), is subject to the admin role's policy on every
 * page (its own RP session is checked, as activity), and receives back-channel logout.
 */
export function consoleRoutes(deps: ConsoleDeps): Router {
  const forms = bodyParser({ enableTypes: ['form'], formLimit: `${deps.bodyLimitKb}kb` });
  const { store, sessions, consoleSessions: cs } = deps;
  const ops = adminOperations(deps);
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

  // Every action says what happened: a redirect names the outcome, the next page says it.
  const page = (ctx: Context, view: string, data: Record<string, unknown>, refusal?: CurfewErrorCode) =>
    renderPage(ctx, `console/${view}`, { org: consoleOf(ctx).org, username: consoleOf(ctx).username, csrf: consoleOf(ctx).csrf, status: ctx.state.consoleStatus, notice: doneMessage(ctx.query.done), ...data }, refusal);

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
    if (ctx.method === 'POST' && !csrfConsole(ctx, session)) throw new CurfewError('csrf_failed', 'The form could not be verified. Reload the page and try again.');
    ctx.state.console = session;
    ctx.state.consoleStatus = status;
    await next();
  }
  // The console session's own token, echoed by every form; compared in constant time.
  const csrfConsole = (ctx: Context, session: ConsoleSession) => {
    const digest = (v: string) => createHash('sha256').update(v).digest();
    return timingSafeEqual(digest(field(ctx, 'csrf')), digest(session.csrf));
  };
  const by = (ctx: Context): AdminActor => ({ org: consoleOf(ctx).org, actor: `user:${consoleOf(ctx).user}` });
  /**
   * Runs an operation; a validation error re-renders the form's page with every bad field named
   * (invalid_request, as the API answers), any other error is the error page, as the API's.
   */
  async function attempt<T>(run: () => Promise<T>, onInvalid: (errors: ValidationError['fields']) => Promise<void>): Promise<T | undefined> {
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await onInvalid(err.fields);
      return undefined;
    }
  }

  router.get('/', async (ctx) => {
    if (await cs.load(ctx)) return ctx.redirect('/admin/policy');
    renderPage(ctx, 'console/signin', { ended: ctx.query.ended !== undefined, org: typeof ctx.query.org === 'string' ? ctx.query.org : '' });
  });

  router.get('/login', async (ctx) => {
    // Known or not, every well-formed org name goes to the sign-in (the provider finds a decoy
    // client for an unknown one), which then fails generically: the picker reveals no org.
    const org = typeof ctx.query.org === 'string' ? ctx.query.org.trim().toLowerCase() : '';
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(org)) {
      renderPage(ctx, 'console/signin', { error: 'Enter your organization: lowercase letters, digits or dashes.', org }, 'invalid_request');
      return;
    }
    ctx.query = { ...ctx.query, org };
    rp.begin(ctx, { acr_values: ACR.mfa });
  });

  router.get('/callback', async (ctx) => {
    const { claims, idToken, clientId } = await rp.complete(ctx);
    const user = await store.directory.getUser(String(claims.sub));
    if (!user || !mayAdminister(user, user.org) || claims.acr !== ACR.mfa || consoleClientId(user.org) !== clientId) {
      renderPage(ctx, 'console/denied', {}, 'access_denied');
      return;
    }
    await cs.create(ctx, { org: user.org, user: user.id, username: user.username, clientId, sid: String(claims.sid), idToken });
    ctx.redirect('/admin/policy');
  });

  // OIDC Back-Channel Logout 1.0 §2.5, as the console's RP endpoint.
  router.post('/backchannel-logout', forms, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    let sid: string;
    try {
      ({ sid } = await verifyLogoutToken(field(ctx, 'logout_token'), jwks, issuer, isConsoleClient));
    } catch (cause) {
      // Back-Channel Logout 1.0 §2.8: a token the RP cannot validate is refused with 400 and OAuth error JSON.
      sendError(ctx, new CurfewError('invalid_request', 'the logout token is not valid', { cause }), 'oidc');
      return;
    }
    // Outside the try: a store that cannot answer is a 503 the sender retries, not a bad token it would dead-letter.
    await cs.endSid(sid);
    ctx.status = 200;
  });

  router.post('/logout', forms, requireConsole, async (ctx) => {
    const session = consoleOf(ctx);
    await cs.destroy(ctx);
    ctx.redirect(`${issuer}/session/end?${new URLSearchParams({ client_id: session.clientId, id_token_hint: session.idToken, post_logout_redirect_uri: `${issuer}/admin` })}`);
  });

  // Compliance evidence (SPEC §13)
  router.get('/compliance', requireConsole, async (ctx) => {
    if (!deps.compliance) throw new CurfewError('not_found', 'not found');
    const { refusal, data } = await compliancePageData(deps.compliance, consoleOf(ctx).org, ctx.query, await store.now());
    page(ctx, 'compliance', { ...data, started: ctx.query.started !== undefined, busy: ctx.query.busy !== undefined }, refusal);
  });
  router.post('/compliance/control-test', forms, requireConsole, async (ctx) => {
    if (!deps.compliance) throw new CurfewError('not_found', 'not found');
    const started = deps.compliance.startRun(consoleOf(ctx).org, by(ctx).actor);
    ctx.redirect(started ? '/admin/compliance?started=1' : '/admin/compliance?busy=1');
  });

  // Policy: a form (or its JSON), a preview of what saving does to live sessions, explain as tables
  router.get('/policy', requireConsole, async (ctx) => {
    const policy = (await store.directory.getOrg(consoleOf(ctx).org))!.policy;
    const count = (v: unknown) => (typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : undefined);
    const saved = ctx.query.saved !== undefined ? { recomputed: count(ctx.query.recomputed), ended: count(ctx.query.ended) } : undefined;
    await showPolicy(ctx, { view: ctx.query.view === 'json' ? 'json' : 'form', input: policy, ...(saved ? { saved } : {}) });
  });
  router.post('/policy', forms, requireConsole, async (ctx) => {
    // The form's names are flat (`rules.2.name`), read as sent: the body parser's qs would nest
    // them, and turn a long rules table into an object past its array limit.
    const posted: Record<string, unknown> = Object.fromEntries(new URLSearchParams(ctx.request.rawBody ?? ''));
    const action = field(ctx, 'action') || 'save';
    const view: PolicyView = field(ctx, 'view') === 'form' ? 'form' : 'json';
    let input: unknown;
    let formErrors: FieldError[] = [];
    // What the page shows again on a refusal or a preview: the form or the JSON, exactly as typed.
    let typed: Pick<PolicyPageState, 'form' | 'text'>;
    if (view === 'form') {
      const form = readPolicyForm(posted);
      // Adding, removing and moving rules re-shows the form: nothing is saved until Save.
      const edit = parseRuleEdit(action);
      if (edit) return showPolicy(ctx, { view, form: editRules(form, edit) });
      ({ input, errors: formErrors } = policyOfForm(form));
      if (action === 'to-json') return showPolicy(ctx, { view: 'json', input });
      typed = { form };
    } else {
      const text = field(ctx, 'policy');
      try {
        input = JSON.parse(text);
      } catch (err) {
        const errors = [{ field: '(policy)', message: `not valid JSON: ${err instanceof Error ? err.message : String(err)}` }];
        return showPolicy(ctx, { view, text, errors }, 'invalid_request');
      }
      if (action === 'to-form') return showPolicy(ctx, { view: 'form', input });
      typed = { text };
    }
    const invalid = (errors: FieldError[]) => showPolicy(ctx, { view, ...typed, errors: mergeErrors(formErrors, errors) }, 'invalid_request');
    if (action === 'preview') {
      const result = await attempt(() => ops.previewPolicy(by(ctx), input), invalid);
      if (result) await showPolicy(ctx, { view, ...typed, preview: result.preview });
      return;
    }
    const done = await attempt(() => ops.changePolicy(by(ctx), input), invalid);
    if (done) ctx.redirect(`/admin/policy?${new URLSearchParams({ saved: '', recomputed: String(done.recomputedSessions), ended: String(done.endedSessions), ...(view === 'json' ? { view } : {}) })}`);
  });
  // Explain (SPEC §4) of the saved policy, as tables beside the form; the API answers it as JSON.
  router.get('/explain', requireConsole, async (ctx) => {
    const orgId = consoleOf(ctx).org;
    const q = (name: string) => (typeof ctx.query[name] === 'string' ? (ctx.query[name] as string).trim() : '');
    const asked = { user: q('user'), client: q('client'), ip: q('ip') };
    const policy = (await store.directory.getOrg(orgId))!.policy;
    const errors: Record<string, string> = {};
    const user = asked.user ? await findUser(deps, orgId, asked.user) : undefined;
    if (!user) errors.user = asked.user ? 'no such user in this organization' : 'is required';
    const client = asked.client ? await store.directory.getClient(asked.client) : undefined;
    if (asked.client && client?.org !== orgId) errors.client = 'no such client in this organization';
    if (asked.ip && !isIP(asked.ip)) errors.ip = 'is not an IP address';
    const refusal: CurfewErrorCode | undefined = errors.user && asked.user ? 'not_found' : Object.keys(errors).length ? 'invalid_request' : undefined;
    const explained = user && !Object.keys(errors).length
      ? { ...explainView(policy, { roles: user.roles, ...(asked.client ? { client: asked.client } : {}), ...(asked.ip ? { ip: asked.ip } : {}) }), username: user.username, roles: user.roles.join(', ') || 'none' }
      : undefined;
    await showPolicy(ctx, { view: 'form', input: policy, explain: { asked, errors, ...(explained ? { result: explained } : {}) } }, refusal);
  });

  /** The policy page: the form or the JSON, with errors beside their inputs, a preview, explain. */
  async function showPolicy(ctx: Context, state: PolicyPageState, refusal?: CurfewErrorCode): Promise<void> {
    const orgId = consoleOf(ctx).org;
    const form = state.form ?? formOf(state.input);
    const errors = state.errors ?? [];
    const known = await policyContext(deps, orgId);
    const own = state.preview ? (await sessions.list(orgId, { user: consoleOf(ctx).user })).find((s) => isOwnSession(ctx, s))?.id : undefined;
    page(ctx, 'policy', {
      view: state.view,
      form,
      json: state.text ?? JSON.stringify(state.form ? policyOfForm(state.form).input : state.input, null, 2),
      errors,
      fieldErrors: errorsByInput(errors),
      inputId,
      // The summary links each error to its input, when the form is shown.
      fieldId: (field: string) => (state.view === 'form' && inputOf(field) ? inputId(inputOf(field)) : ''),
      escape: escapeHtml,
      known: { roles: known.roles, clients: known.clients.filter((c) => !isInternalClient(c)) },
      saved: state.saved,
      preview: state.preview && {
        ...state.preview,
        // The counts cover every session; the table, the soonest to end (a page stays readable).
        more: Math.max(0, state.preview.affected.length - PREVIEW_ROWS),
        affected: state.preview.affected.slice(0, PREVIEW_ROWS).map((a) => ({
          ...a, own: a.session === own, expiresAt: iso(a.expiresAt), newExpiresAt: iso(a.newExpiresAt),
          apps: a.apps.map((app) => ({ ...app, expiresAt: iso(app.expiresAt), newExpiresAt: iso(app.newExpiresAt) })),
        })),
      },
      explain: state.explain ?? { asked: { user: '', client: '', ip: '' }, errors: {} },
    }, refusal);
  }

  // Sessions
  router.get('/sessions', requireConsole, async (ctx) => {
    const orgId = consoleOf(ctx).org;
    const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
    const filter = { user: text(ctx.query.user), client: text(ctx.query.client) };
    // A user by username or id (SPEC §11); a name nobody has matches nothing, never everyone.
    const user = filter.user ? await findUser(deps, orgId, filter.user) : undefined;
    const list = filter.user && !user ? [] : await sessions.list(orgId, { ...(user ? { user: user.id } : {}), ...(filter.client ? { client: filter.client } : {}) });
    const names = new Map((await store.directory.listUsers(orgId)).map((u) => [u.id, u.username]));
    const clients = (await store.directory.listClients(orgId)).map((c) => c.client_id).filter((id) => !isInternalClient(id) || id === consoleOf(ctx).clientId);
    page(ctx, 'sessions', {
      filter, clients, now: iso(await store.now()),
      sessions: list.map((s) => {
        const { idleAt, absoluteAt } = ssoDeadlines(s);
        return {
          id: s.id,
          username: names.get(s.user) ?? s.user,
          userId: s.user,
          signedInAt: iso(s.signedInAt),
          lastActiveAt: iso(s.lastActiveAt),
          idleAt: iso(idleAt),
          absoluteAt: iso(absoluteAt),
          expiresAt: iso(expiresAt(ssoDeadlines(s))),
          clients: Object.values(s.rps).filter((r) => r.endedAt === undefined).map((r) => r.client).join(', '),
          own: isOwnSession(ctx, s),
        };
      }),
    });
  });
  sessionTimelineRoute(router, { store, requireConsole, page });
  router.post('/sessions/:id/revoke', forms, requireConsole, async (ctx) => {
    const own = isOwnSession(ctx, await sessions.get(ctx.params.id!));
    // The console's own session ends only when the admin said so on purpose: its row carries
    // `self`, no other form does, so a stale page or a mistaken row cannot sign the admin out.
    if (own && field(ctx, 'self') !== 'yes') throw new CurfewError('conflict', 'This is your own console session: revoke it from its row, which says so, or sign out.');
    await ops.revokeSession(by(ctx), ctx.params.id!);
    ctx.redirect(own ? '/admin?ended=1' : '/admin/sessions?done=revoked');
  });

  /** Whether an SSO session is the one the console itself is signed in with. */
  function isOwnSession(ctx: Context, session: SsoSession | undefined): boolean {
    const own = ctx.state.console;
    return session !== undefined && own !== undefined && Object.values(session.rps).some((rp) => rp.client === own.clientId && rp.sid === own.sid);
  }

  // Users
  const showUsers = async (ctx: Context, errors: Array<{ field: string; message: string }> = [], refusal?: CurfewErrorCode, notice = '') => {
    const users = await store.directory.listUsers(consoleOf(ctx).org);
    const enrolled = await Promise.all(users.map((u) => deps.mfa.isEnrolled(u.id)));
    page(ctx, 'users', { users: users.map((u, i) => ({ id: u.id, username: u.username, roles: u.roles.join(', '), disabled: u.disabled, totp: enrolled[i] })), errors, ...(notice ? { notice } : {}) }, refusal);
  };
  const invalidUsers = (ctx: Context) => (errors: ValidationError['fields']) => showUsers(ctx, errors, 'invalid_request');
  router.get('/users', requireConsole, (ctx) => showUsers(ctx));
  router.post('/users', forms, requireConsole, async (ctx) => {
    const input = { username: field(ctx, 'username'), password: field(ctx, 'password'), roles: list(field(ctx, 'roles')) };
    if (await attempt(() => ops.createUser(by(ctx), input), invalidUsers(ctx))) ctx.redirect('/admin/users?done=user-created');
  });
  router.post('/users/:id/roles', forms, requireConsole, async (ctx) => {
    if (await attempt(() => ops.setRoles(by(ctx), ctx.params.id!, list(field(ctx, 'roles'))), invalidUsers(ctx))) ctx.redirect('/admin/users?done=roles-saved');
  });
  router.post('/users/:id/password', forms, requireConsole, async (ctx) => {
    const chosen = field(ctx, 'password');
    const result = await attempt(() => ops.setPassword(by(ctx), ctx.params.id!, chosen ? { password: chosen } : {}), invalidUsers(ctx));
    if (!result) return;
    // A generated password is shown on this page only, never in a URL.
    if (result.password) await showUsers(ctx, [], undefined, `New password, shown once — hand it to the user: ${result.password}`);
    else ctx.redirect('/admin/users?done=password-set');
  });
  router.post('/users/:id/sessions/revoke', forms, requireConsole, async (ctx) => {
    await ops.revokeUserSessions(by(ctx), ctx.params.id!);
    ctx.redirect('/admin/users?done=sessions-revoked');
  });
  router.post('/users/:id/disable', forms, requireConsole, async (ctx) => {
    await ops.setDisabled(by(ctx), ctx.params.id!, true);
    ctx.redirect('/admin/users?done=user-disabled');
  });
  router.post('/users/:id/enable', forms, requireConsole, async (ctx) => {
    await ops.setDisabled(by(ctx), ctx.params.id!, false);
    ctx.redirect('/admin/users?done=user-enabled');
  });
  router.post('/users/:id/totp-reset', forms, requireConsole, async (ctx) => {
    await ops.resetTotp(by(ctx), ctx.params.id!);
    ctx.redirect('/admin/users?done=totp-reset');
  });
  router.post('/users/:id/delete', forms, requireConsole, async (ctx) => {
    await ops.deleteUser(by(ctx), ctx.params.id!);
    ctx.redirect('/admin/users?done=user-deleted');
  });

  // Clients
  const showClients = async (ctx: Context, extra: { errors?: ValidationError['fields']; secret?: { client: string; value: string } } = {}, refusal?: CurfewErrorCode) => {
    const clients = (await store.directory.listClients(consoleOf(ctx).org)).filter((c) => !isInternalClient(c.client_id));
    page(ctx, 'clients', {
      errors: extra.errors ?? [], secret: extra.secret,
      clients: clients.map((c) => ({ id: c.client_id, redirect: c.redirect_uris.join(' '), postLogout: (c.post_logout_redirect_uris ?? []).join(' '), backchannel: c.backchannel_logout_uri ?? '', type: c.client_secret_hash ? 'confidential' : 'public', adminApi: c.adminApi === true })),
    }, refusal);
  };
  const invalidClients = (ctx: Context) => (errors: ValidationError['fields']) => showClients(ctx, { errors }, 'invalid_request');
  /** The client fields a form sent; blank ones are not sent, so an edit changes only what was filled in. */
  const clientFields = (ctx: Context) => {
    const text = (name: string) => field(ctx, name).trim();
    return {
      ...(text('redirect_uris') ? { redirect_uris: list(text('redirect_uris')) } : {}),
      ...(text('post_logout_redirect_uris') ? { post_logout_redirect_uris: list(text('post_logout_redirect_uris')) } : {}),
      ...(text('backchannel_logout_uri') ? { backchannel_logout_uri: text('backchannel_logout_uri') } : {}),
      ...(text('client_secret') ? { client_secret: text('client_secret') } : {}),
      ...(text('adminApi') ? { adminApi: text('adminApi') === 'true' } : {}),
    };
  };
  router.get('/clients', requireConsole, (ctx) => showClients(ctx));
  router.post('/clients', forms, requireConsole, async (ctx) => {
    const input = { client_id: field(ctx, 'client_id').trim(), ...clientFields(ctx) };
    const created = await attempt(() => ops.createClient(by(ctx), input, { generateSecret: field(ctx, 'confidential') === 'true' }), invalidClients(ctx));
    if (!created) return;
    if (created.client_secret) await showClients(ctx, { secret: { client: created.client.client_id, value: created.client_secret } });
    else ctx.redirect('/admin/clients?done=client-created');
  });
  router.post('/clients/:id', forms, requireConsole, async (ctx) => {
    if (await attempt(() => ops.updateClient(by(ctx), ctx.params.id!, clientFields(ctx)), invalidClients(ctx))) ctx.redirect('/admin/clients?done=client-saved');
  });
  router.post('/clients/:id/secret', forms, requireConsole, async (ctx) => {
    const { client, client_secret } = await ops.rotateClientSecret(by(ctx), ctx.params.id!);
    await showClients(ctx, { secret: { client: client.client_id, value: client_secret } });
  });
  router.post('/clients/:id/delete', forms, requireConsole, async (ctx) => {
    await ops.deleteClient(by(ctx), ctx.params.id!);
    ctx.redirect('/admin/clients?done=client-deleted');
  });

  // Audit, deliveries
  /** The audit filters of this request, the user resolved from a username or id (SPEC §11). */
  const auditFilter = async (ctx: Context) => {
    const { filter, input } = parseAuditFilter(ctx.query);
    if (filter.user) filter.user = (await findUser(deps, consoleOf(ctx).org, filter.user))?.id ?? filter.user;
    return { filter, input };
  };
  /** Ids become names an admin reads; the id stays on hover. */
  const auditNames = async (org: string) => {
    const users = new Map((await store.directory.listUsers(org)).map((u) => [u.id, u.username]));
    const actor = (a: string) => (a.startsWith('user:') ? (users.get(a.slice(5)) ?? a) : a.startsWith('client:') ? `${a.slice(7)} (API)` : a);
    return { user: (id: string) => users.get(id) ?? id, actor };
  };
  const auditRow = (names: Awaited<ReturnType<typeof auditNames>>) => (e: AuditRecord) => ({
    id: e.id, at: e.at, type: e.type,
    actor: e.actor ? names.actor(e.actor) : '', actorId: e.actor ?? '',
    user: e.user ? names.user(e.user) : '', userId: e.user ?? '',
    client: e.client ?? '', session: e.session ?? '', ip: e.ip ?? '',
    details: detailPairs(e.data),
  });
  router.get('/audit', requireConsole, async (ctx) => {
    const orgId = consoleOf(ctx).org;
    const parsed = await attempt(() => auditFilter(ctx), async (errors) => {
      const input = Object.fromEntries(['type', 'user', 'client', 'session', 'since', 'until'].map((k) => [k, typeof ctx.query[k] === 'string' ? ctx.query[k] : '']));
      page(ctx, 'audit', { types: AUDIT_EVENT_TYPES, input, errors, events: [], next: '', exportQuery: '' }, 'invalid_request');
    });
    if (!parsed) return;
    const { filter, input } = parsed;
    const cursor = typeof ctx.query.cursor === 'string' ? ctx.query.cursor : undefined;
    const result = await findAuditEvents(store, orgId, filter, { limit: 50, ...(cursor ? { cursor } : {}) });
    const sent = new URLSearchParams(Object.entries(input).filter(([, v]) => v));
    page(ctx, 'audit', {
      types: AUDIT_EVENT_TYPES, input, errors: [],
      exportQuery: sent.toString(),
      next: result.nextCursor ? `/admin/audit?${new URLSearchParams([...sent, ['cursor', result.nextCursor]])}` : '',
      events: result.items.map(auditRow(await auditNames(orgId))),
    });
  });
  // The filtered events as a file, for the auditor's spreadsheet or tooling.
  router.get('/audit/export.:format', requireConsole, async (ctx) => {
    const format = ctx.params.format;
    if (format !== 'csv' && format !== 'json') throw new CurfewError('not_found', 'export as .csv or .json');
    const orgId = consoleOf(ctx).org;
    const { filter } = await auditFilter(ctx);
    const result = await findAuditEvents(store, orgId, filter, { limit: AUDIT_EXPORT_LIMIT });
    const rows = result.items.map(auditRow(await auditNames(orgId)));
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Disposition', `attachment; filename="audit-${orgId}.${format}"`);
    if (result.nextCursor) ctx.set('X-Curfew-Truncated', `first ${AUDIT_EXPORT_LIMIT} events; narrow the filter for older ones`);
    if (format === 'json') {
      ctx.body = result.items.map((e, i) => ({ ...e, ...(rows[i]!.userId ? { username: rows[i]!.user } : {}) }));
      return;
    }
    ctx.type = 'text/csv; charset=utf-8';
    ctx.body = [csvRow(['at', 'type', 'actor', 'user', 'user_id', 'client', 'session', 'ip', 'details']),
      ...rows.map((r) => csvRow([r.at, r.type, r.actor, r.user, r.userId, r.client, r.session, r.ip, r.details.map((d) => `${d.key}: ${d.value}`).join('; ')]))].join('\r\n') + '\r\n';
  });
  router.get('/deliveries', requireConsole, async (ctx) => {
    const state = ctx.query.state === 'dead' ? 'dead' : 'pending';
    const orgId = consoleOf(ctx).org;
    const [pending, dead] = await Promise.all([store.deliveries.list(orgId, 'pending'), store.deliveries.list(orgId, 'dead')]);
    const names = new Map((await store.directory.listUsers(orgId)).map((u) => [u.id, u.username]));
    page(ctx, 'deliveries', {
      state, counts: { pending: pending.length, dead: dead.length }, now: iso(await store.now()),
      deliveries: (state === 'dead' ? dead : pending).map((d) => ({
        id: d.id, client: d.client, uri: d.uri, user: names.get(d.sub) ?? d.sub, userId: d.sub, session: d.session,
        reason: describeEndReason(d.reason), attempts: d.attempts, next: iso(d.nextAttemptAt), enqueued: iso(d.enqueuedAt),
        error: describeDeliveryError(d.lastError), rawError: d.lastError ?? '',
      })),
    });
  });
  router.post('/deliveries/:id/retry', forms, requireConsole, async (ctx) => {
    await ops.retryDelivery(by(ctx), ctx.params.id!);
    ctx.redirect('/admin/deliveries?state=pending&done=retried');
  });

  return router;
}
