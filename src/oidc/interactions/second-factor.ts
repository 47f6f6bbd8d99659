import type { Context } from 'koa';
import { ACR, acrRequested } from '../../mfa/acr.ts';
import { decideMfa } from '../../mfa/decide.ts';
import type { Org, User } from '../../orgs/types.ts';
import { csrfToken } from '../../http/csrf.ts';
import { CurfewError, type CurfewErrorCode } from '../../errors.ts';
import { renderPage } from '../../http/views.ts';
import { formBody, loadInteraction, requireCsrf, stringField, type Interaction, type InteractionDeps } from './context.ts';
import { judgeUserSessions } from './judge-user-sessions.ts';
import type { PendingSignIn } from './pending.ts';
import { restartAuthorization, sessionStanding } from './require-live-session.ts';

const finishWithMfa = async (ctx: Context, deps: InteractionDeps, user: User) => {
  await deps.mfa.clearStepUps(user.id);
  await deps.provider.interactionFinished(ctx.req, ctx.res, {
    login: { accountId: user.id, acr: ACR.mfa, amr: ['pwd', 'otp'], remember: true },
  }, { mergeWithLastSubmission: false });
};

async function userAndOrg(deps: InteractionDeps, accountId: string): Promise<{ user: User; org: Org }> {
  const user = await deps.directory.getUser(accountId);
  const org = user ? await deps.directory.getOrg(user.org) : undefined;
  if (!user || !org || user.disabled) throw new CurfewError('interaction_expired', 'This sign-in can no longer continue. Go back to the application and sign in again.');
  return { user, org };
}

/** Renders the page for where the sign-in stands (also after a reload). */
export async function renderStage(ctx: Context, deps: InteractionDeps, uid: string, pending: PendingSignIn, error?: string, refusal?: CurfewErrorCode): Promise<void> {
  const { user } = await userAndOrg(deps, pending.accountId);
  const common = { csrf: csrfToken(ctx), error, abort: `/interaction/${uid}/abort`, username: user.username };
  switch (pending.stage) {
    case 'totp':
      renderPage(ctx, 'totp', { ...common, action: `/interaction/${uid}/totp` }, refusal);
      return;
    case 'enroll': {
      const view = await deps.mfa.showEnrollment(user, pending.enrollment);
      renderPage(ctx, 'enroll', { ...common, action: `/interaction/${uid}/enroll`, secret: view.secret.replace(/(.{4})/g, '$1 ').trim(), qr: view.qrDataUrl }, refusal);
      return;
    }
    case 'enrolled':
      // Recovery codes are shown once, right after enrollment; a reload only offers to continue.
      renderPage(ctx, 'recovery-codes', { ...common, codes: [], action: `/interaction/${uid}/continue` }, refusal);
  }
}

/**
 * After the first factor (a correct password, or a live session asked to step up, named by
 * `sessionUid`): finish, ask for a code, enroll, or refuse — SPEC §8 via decideMfa, after the
 * user's sessions were judged now (a session past its deadline leaves its step-up requirement).
 */
export async function continueAfterFirstFactor(ctx: Context, deps: InteractionDeps, interaction: Interaction, user: User, amr: string[], sessionUid?: string): Promise<void> {
  const org = await deps.directory.getOrg(user.org);
  if (!org) throw new Error(`org ${user.org} of user ${user.id} is missing`);
  const clientId = String(interaction.params.client_id);
  await judgeUserSessions(deps, user.id);
  const [enrolled, stepUp] = await Promise.all([deps.mfa.isEnrolled(user.id), deps.mfa.stepUpRequired(user.id, clientId)]);
  const decision = decideMfa({
    mode: org.policy.mfa,
    allowEnrollmentAtReentry: org.policy.allowEnrollmentAtReentry,
    enrolled,
    stepUp,
    acrRequested: acrRequested(interaction.params),
  });

  if (decision === 'none') {
    await deps.provider.interactionFinished(ctx.req, ctx.res, {
      login: { accountId: user.id, acr: ACR.password, amr, remember: true },
    }, { mergeWithLastSubmission: false });
    return;
  }
  if (decision === 'refuse') {
    await deps.audit({ type: 'mfa.required', org: user.org, user: user.id, client: clientId, data: { outcome: 'refused', reason: 'not_enrolled' } });
    renderPage(ctx, 'mfa-refused', {}, 'access_denied');
    return;
  }
  await deps.audit({ type: 'mfa.required', org: user.org, user: user.id, client: clientId, data: { outcome: decision, stepUp } });
  const carried = sessionUid === undefined ? {} : { sessionUid };
  const pending: PendingSignIn = decision === 'verify'
    ? { stage: 'totp', accountId: user.id, amr, ...carried }
    : { stage: 'enroll', accountId: user.id, amr, enrollment: deps.mfa.startEnrollment(user), ...carried };
  await deps.pending.put(interaction.uid, pending);
  await renderStage(ctx, deps, interaction.uid, pending);
}

async function pendingFor(ctx: Context, deps: InteractionDeps, stage: PendingSignIn['stage']) {
  const interaction = await loadInteraction(ctx, deps.provider);
  const body = formBody(ctx);
  requireCsrf(ctx, body);
  const pending = await deps.pending.get(interaction.uid);
  if (!pending || pending.stage !== stage) {
    ctx.redirect(`/interaction/${interaction.uid}`);
    return undefined;
  }
  const { user } = await userAndOrg(deps, pending.accountId);
  if ((await sessionStanding(deps, pending.sessionUid, pending.accountId)) !== 'carries') {
    // The session that vouched for the password ended before the second factor came: a code
    // alone must never start a new session. Its end revoked the grant this interaction was
    // bound to, so the client's request starts over, where a dead session asks for the password.
    await deps.pending.drop(interaction.uid);
    ctx.status = 303;
    ctx.redirect(restartAuthorization(deps.provider, interaction));
    return undefined;
  }
  return { interaction, body, pending, user };
}

/** What a sign-in carries from one stage to the next. */
const signInOf = ({ accountId, amr, sessionUid }: PendingSignIn) => ({ accountId, amr, ...(sessionUid === undefined ? {} : { sessionUid }) });

const ALREADY_ENROLLED = 'This account already has an authenticator app set up, so the one on this page was not added. Enter the code from the authenticator that is set up.';

const lockedMessage = (seconds: number) => `Too many wrong codes. Try again in ${Math.ceil(seconds / 60)} minute(s).`;

/** POST /interaction/:uid/totp — the code from the authenticator, or a recovery code. */
export function submitTotp(deps: InteractionDeps) {
  return async function totp(ctx: Context): Promise<void> {
    const found = await pendingFor(ctx, deps, 'totp');
    if (!found) return;
    const { interaction, body, pending, user } = found;
    const result = await deps.mfa.verify(user, stringField(body, 'code').slice(0, 64));
    if (result.ok) {
      await deps.pending.drop(interaction.uid);
      await finishWithMfa(ctx, deps, user);
      return;
    }
    const message = result.reason === 'locked' ? lockedMessage(result.retryAfterSeconds) : 'That code is not valid. Enter the current code from your authenticator app.';
    if (result.reason === 'locked') ctx.set('Retry-After', String(result.retryAfterSeconds));
    await renderStage(ctx, deps, interaction.uid, pending, message, result.reason === 'locked' ? 'rate_limited' : 'invalid_credentials');
  };
}

/** POST /interaction/:uid/enroll — the first code from a newly added authenticator. */
export function submitEnrollment(deps: InteractionDeps) {
  return async function enroll(ctx: Context): Promise<void> {
    const found = await pendingFor(ctx, deps, 'enroll');
    if (!found) return;
    const { interaction, body, pending, user } = found;
    if (pending.stage !== 'enroll') return;
    const result = await deps.mfa.finishEnrollment(user, pending.enrollment, stringField(body, 'code').slice(0, 64));
    if (!result.ok && result.reason === 'already_enrolled') {
      // Another enrollment finished first (another window, or someone else with the password):
      // this secret was never stored, so the sign-in goes on with the authenticator that was.
      const verify: PendingSignIn = { stage: 'totp', ...signInOf(pending) };
      await deps.pending.put(interaction.uid, verify);
      await renderStage(ctx, deps, interaction.uid, verify, ALREADY_ENROLLED, 'conflict');
      return;
    }
    if (!result.ok) {
      const message = result.reason === 'locked' ? lockedMessage(result.retryAfterSeconds) : 'That code is not valid. Check the time on your device and enter the current code.';
      await renderStage(ctx, deps, interaction.uid, pending, message, result.reason === 'locked' ? 'rate_limited' : 'invalid_credentials');
      return;
    }
    await deps.pending.put(interaction.uid, { stage: 'enrolled', ...signInOf(pending) });
    renderPage(ctx, 'recovery-codes', { csrf: csrfToken(ctx), codes: result.recoveryCodes, action: `/interaction/${interaction.uid}/continue`, username: user.username });
  };
}

/** POST /interaction/:uid/continue — after the recovery codes were shown. */
export function submitContinue(deps: InteractionDeps) {
  return async function proceed(ctx: Context): Promise<void> {
    const found = await pendingFor(ctx, deps, 'enrolled');
    if (!found) return;
    await deps.pending.drop(found.interaction.uid);
    await finishWithMfa(ctx, deps, found.user);
  };
}
