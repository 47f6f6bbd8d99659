import type { Context } from 'koa';
import { formBody, loadInteraction, requireCsrf, stringField, type InteractionDeps } from './context.ts';
import { continueAfterFirstFactor } from './second-factor.ts';
import { renderLogin } from './login-page.ts';

const GENERIC_FAILURE = 'Invalid username or password.';
const MAX_FIELD = 1024;

/**
 * POST /interaction/:uid/login — password sign-in for the client's org. Every failure shows
 * one generic message; only a rate limit says something else, and it is counted for unknown
 * usernames too, so it reveals nothing about which accounts exist.
 */
export function submitLogin(deps: InteractionDeps) {
  const { provider, authenticator, audit } = deps;
  return async function login(ctx: Context): Promise<void> {
    const interaction = await loadInteraction(ctx, provider);
    const body = formBody(ctx);
    requireCsrf(ctx, body);
    if (interaction.prompt.name !== 'login') {
      ctx.redirect(`/interaction/${interaction.uid}`);
      return;
    }

    const client = await provider.Client.find(String(interaction.params.client_id));
    const clientLabel = client?.clientName ?? String(interaction.params.client_id);
    const org = typeof client?.org === 'string' ? client.org : '';
    const username = stringField(body, 'username').slice(0, MAX_FIELD);
    const password = stringField(body, 'password').slice(0, MAX_FIELD);
    if (!username || !password) {
      renderLogin(ctx, interaction.uid, { client: clientLabel, username, error: 'Enter your username and password.' }, 'invalid_request');
      return;
    }

    const result = await authenticator.authenticate({ org, username, password, ip: ctx.ip });
    if (!result.ok) {
      await audit({
        type: result.reason === 'rate_limited' ? 'login.blocked' : 'login.failed',
        org,
        user: 'user' in result ? result.user?.id : undefined,
        client: client?.clientId,
        ip: ctx.ip,
        data: result.reason === 'rate_limited' ? { reason: result.reason, limitedBy: result.limitedBy } : { reason: result.reason, username },
      });
      const error = result.reason === 'rate_limited'
        ? `Too many failed sign-ins. Try again in ${Math.ceil(result.retryAfterSeconds / 60)} minute(s).`
        : GENERIC_FAILURE;
      if (result.reason === 'rate_limited') ctx.set('Retry-After', String(result.retryAfterSeconds));
      renderLogin(ctx, interaction.uid, { client: clientLabel, username, error }, result.reason === 'rate_limited' ? 'rate_limited' : 'invalid_credentials');
      return;
    }

    await audit({ type: 'login.succeeded', org, user: result.user.id, client: client?.clientId, ip: ctx.ip, data: { method: 'pwd' } });
    await continueAfterFirstFactor(ctx, deps, interaction, result.user, ['pwd']);
  };
}
