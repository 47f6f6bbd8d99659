import Router from '@koa/router';
import type { JSONWebKeySet } from 'jose';
import type Provider from 'oidc-provider';
import { renderPage } from '../http/views.ts';
import { internalRp } from '../oidc/internal-rp.ts';

export const DEMO_CLIENT_ID = 'demo-app';

export interface DemoOptions {
  provider: Provider;
  clientSecret: string;
  internalBase: () => string;
  publicJwks: JSONWebKeySet;
}

/**
 * A minimal relying party for the embedded default (`npm start` without Redis): a person can
 * sign in as a demo user in a browser and see the ID token Curfew issued. Mounted only with
 * the demo seed.
 */
export function demoRoutes({ provider, clientSecret, internalBase, publicJwks }: DemoOptions): Router {
  const router = new Router({ prefix: '/demo' });
  const rp = internalRp({
    provider,
    clientId: () => DEMO_CLIENT_ID,
    clientSecret: () => clientSecret,
    redirectUri: `${provider.issuer}/demo/callback`,
    internalBase,
    publicJwks,
    cookie: 'curfew.demo',
  });

  // /demo?stepup asks for the MFA context class, as an RP guarding a sensitive page would.
  router.get('/', (ctx) => rp.begin(ctx, ctx.query.stepup !== undefined ? { acr_values: 'urn:curfew:acr:mfa' } : {}));

  router.get('/callback', async (ctx) => {
    const { claims, idToken } = await rp.complete(ctx);
    renderPage(ctx, 'demo', {
      claims: Object.entries(claims).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]),
      logout: `${provider.issuer}/session/end?${new URLSearchParams({ client_id: DEMO_CLIENT_ID, id_token_hint: idToken, post_logout_redirect_uri: `${provider.issuer}/demo/signed-out` })}`,
    });
  });

  router.get('/signed-out', (ctx) => {
    renderPage(ctx, 'logged-out', { client: DEMO_CLIENT_ID });
  });

  return router;
}
