import type { Context } from 'koa';
import { formBody, loadInteraction, requireCsrf, type InteractionDeps } from './context.ts';

/** POST /interaction/:uid/abort — the user cancels; the RP gets `access_denied`. */
export function abortInteraction({ provider }: InteractionDeps) {
  return async function abort(ctx: Context): Promise<void> {
    await loadInteraction(ctx, provider);
    requireCsrf(ctx, formBody(ctx));
    await provider.interactionFinished(ctx.req, ctx.res, {
      error: 'access_denied',
      error_description: 'the user cancelled the sign-in',
    }, { mergeWithLastSubmission: false });
  };
}
