import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload } from 'jose';
import type Provider from 'oidc-provider';
import { renderPage } from '../http/views.ts';
import { CurfewError } from '../errors.ts';
import { sendError } from '../http/errors.ts';
import { verifyLogoutToken } from '../logout/logout-token.ts';
import { internalRp } from '../oidc/internal-rp.ts';
import { bodyFields } from '../http/body.ts';

export const DEMO_CLIENT_ID = 'demo-app';
/** How many received logout tokens the demo keeps to show: the newest. */
const KEEP = 20;

export interface DemoOptions {
  provider: Provider;
  clientSecret: string;
  internalBase: () => string;
  publicJwks: JSONWebKeySet;
}

/** A logout token the demo app received and verified, as it shows it. */
export interface ReceivedLogout {
  receivedAt: string;
  alg: string;
  claims: JWTPayload;
}

/**
 * A minimal relying party for the embedded default (`npm start` without Redis): a person can
 * sign in as a demo user in a browser and see the ID token Curfew issued, then see the logout
 * token Curfew sent when that session ended (by logout, timeout or an admin). Mounted only with
 * the demo seed, whose demo-app registers this receiver as its back-channel logout URI.
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
  const jwks = createLocalJWKSet(publicJwks);
  // In memory like the embedded default's whole store: this is a demonstration, not an app.
  const received: ReceivedLogout[] = [];

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
    renderPage(ctx, 'logged-out', { client: DEMO_CLIENT_ID, demoLogouts: true });
  });

  /**
   * OIDC Back-Channel Logout 1.0 §2.6, as an RP does it: the token is verified against Curfew's
   * JWKS (signature, iss, aud, typ), must carry the back-channel event and a sid, and no nonce.
   */
  router.post('/backchannel-logout', bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const body = bodyFields(ctx);
    const token = typeof body.logout_token === 'string' ? body.logout_token : '';
    try {
      const { claims, alg } = await verifyLogoutToken(token, jwks, provider.issuer, (client) => client === DEMO_CLIENT_ID);
      received.unshift({ receivedAt: new Date().toISOString(), alg, claims });
      received.splice(KEEP);
      ctx.status = 200;
    } catch (cause) {
      // Back-Channel Logout 1.0 §2.8: a token the RP cannot validate is refused with 400 and OAuth error JSON.
      sendError(ctx, new CurfewError('invalid_request', 'the logout token is not valid', { cause }), 'oidc');
    }
  });

  // What the demo app's back-channel receiver got, newest first; JSON for scripts.
  router.get('/logouts', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    if (ctx.accepts('html', 'json') === 'json') {
      ctx.body = { logouts: received };
      return;
    }
    renderPage(ctx, 'demo-logouts', {
      logouts: received.map((r) => ({ receivedAt: r.receivedAt, alg: r.alg, sid: String(r.claims.sid), sub: String(r.claims.sub ?? ''), claims: JSON.stringify(r.claims, null, 2) })),
    });
  });

  return router;
}

