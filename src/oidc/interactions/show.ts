import type { Context } from 'koa';
import { csrfToken } from '../../http/csrf.ts';
import { renderPage } from '../../http/views.ts';
import { ORG_MISMATCH } from '../enforcement/require-org-membership.ts';
import { MFA_REQUIRED } from '../enforcement/require-second-factor.ts';
import { loadInteraction, type InteractionDeps } from './context.ts';
import { renderLogin } from './login-page.ts';
import { restartAuthorization, sessionStanding } from './require-live-session.ts';
import { continueAfterFirstFactor, renderStage } from './second-factor.ts';

/** GET /interaction/:uid — the page for whatever the provider's policy asked for. */
export function showInteraction(deps: InteractionDeps) {
  const { provider, directory } = deps;
  return async function show(ctx: Context): Promise<void> {
    const interaction = await loadInteraction(ctx, provider);
    const pending = await deps.pending.get(interaction.uid);
    if (pending) {
      await renderStage(ctx, deps, interaction.uid, pending);
      return;
    }
    const { prompt, params, uid } = interaction;
    const client = await provider.Client.find(String(params.client_id));
    const clientLabel = client?.clientName ?? String(params.client_id);

    if (prompt.reasons.includes(ORG_MISMATCH)) {
      await provider.interactionFinished(ctx.req, ctx.res, {
        error: 'access_denied',
        error_description: 'the signed-in user does not belong to this application\'s organization',
      }, { mergeWithLastSubmission: false });
      return;
    }

    // A live session asked to step up (acr_values, mfa: always, a timeout elsewhere): the
    // password was given in this session already; only the second factor is missing. The
    // session is judged now, and again when the code is submitted.
    const sessionAccount = interaction.session?.accountId;
    const sessionUid = interaction.session?.uid;
    if (prompt.name === 'login' && sessionAccount && sessionUid && prompt.reasons.length === 1 && prompt.reasons[0] === MFA_REQUIRED) {
      const user = await directory.getUser(sessionAccount);
      const standing = user && !user.disabled ? await sessionStanding(deps, sessionUid, user.id) : 'other_user';
      if (standing === 'ended') {
        // It died since the request was judged; its end revoked this interaction's grant.
        ctx.status = 303;
        ctx.redirect(restartAuthorization(provider, interaction));
        return;
      }
      if (user && standing === 'carries') {
        await continueAfterFirstFactor(ctx, deps, interaction, user, ['pwd'], sessionUid);
        return;
      }
    }

    if (prompt.name === 'login') {
      renderLogin(ctx, uid, { client: clientLabel, username: typeof params.login_hint === 'string' ? params.login_hint : '' });
      return;
    }

    const user = interaction.session?.accountId ? await directory.getUser(interaction.session.accountId) : undefined;
    const scopes = String(params.scope ?? 'openid').split(' ').filter((s) => s && s !== 'openid');
    renderPage(ctx, 'consent', {
      client: clientLabel,
      username: user?.username ?? '',
      scopes,
      csrf: csrfToken(ctx),
      action: `/interaction/${uid}/confirm`,
      abort: `/interaction/${uid}/abort`,
    });
  };
}
