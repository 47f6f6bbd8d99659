import type { Context } from 'koa';
import { CurfewError } from '../../errors.ts';
import { formBody, loadInteraction, requireCsrf, type InteractionDeps } from './context.ts';

/** POST /interaction/:uid/confirm — the user allows a third-party client what it asked for. */
export function submitConsent({ provider }: InteractionDeps) {
  return async function confirm(ctx: Context): Promise<void> {
    const interaction = await loadInteraction(ctx, provider);
    requireCsrf(ctx, formBody(ctx));
    const { prompt, params, session, grantId } = interaction;
    if (prompt.name !== 'consent' || !session) {
      throw new CurfewError('bad_request', 'There is nothing to consent to on this page.');
    }

    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: String(params.client_id) });
    if (!grant) throw new CurfewError('interaction_expired', 'This consent has expired. Go back to the application.');

    const details = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    const saved = await grant.save();

    await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId: saved } }, { mergeWithLastSubmission: true });
  };
}
