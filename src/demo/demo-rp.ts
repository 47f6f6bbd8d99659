import { createHash, randomBytes } from 'node:crypto';
import Router from '@koa/router';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type Provider from 'oidc-provider';
import { CurfewError } from '../http/errors.ts';
import { renderPage } from '../http/views.ts';

export const DEMO_CLIENT_ID = 'demo-app';
const COOKIE = 'curfew.demo';

export interface DemoOptions {
  provider: Provider;
  clientSecret: string;
  /** Where this process's own token endpoint answers (the issuer may be a public name). */
  internalBase: () => string;
  publicJwks: JSONWebKeySet;
}

/**
 * A minimal relying party for the embedded default (`npm start` without Redis): a person can
 * sign in as a demo user in a browser and see the ID token Curfew issued. It is a real RP —
 * code flow, PKCE, state, nonce, signature verification — mounted only with the demo seed.
 */
export function demoRoutes({ provider, clientSecret, internalBase, publicJwks }: DemoOptions): Router {
  const router = new Router({ prefix: '/demo' });
  const redirectUri = `${provider.issuer}/demo/callback`;
  const jwks = createLocalJWKSet(publicJwks);

  router.get('/', (ctx) => {
    const verifier = randomBytes(32).toString('base64url');
    const state = randomBytes(16).toString('base64url');
    const nonce = randomBytes(16).toString('base64url');
    ctx.cookies.set(COOKIE, JSON.stringify({ verifier, state, nonce }), { signed: true, httpOnly: true, sameSite: 'lax', maxAge: 600_000 });
    const url = new URL(`${provider.issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: DEMO_CLIENT_ID,
      response_type: 'code',
      scope: 'openid profile',
      redirect_uri: redirectUri,
      state,
      nonce,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      // /demo?stepup asks for the MFA context class, as an RP guarding a sensitive page would.
      ...(ctx.query.stepup !== undefined ? { acr_values: 'urn:curfew:acr:mfa' } : {}),
    }).toString();
    ctx.redirect(url.href);
  });

  router.get('/callback', async (ctx) => {
    const saved = ctx.cookies.get(COOKIE, { signed: true });
    const { verifier, state, nonce } = saved ? (JSON.parse(saved) as Record<string, string>) : {};
    if (typeof ctx.query.error === 'string') {
      throw new CurfewError('bad_request', 400, `The sign-in ended with "${ctx.query.error}".`);
    }
    if (!verifier || ctx.query.state !== state || typeof ctx.query.code !== 'string') {
      throw new CurfewError('bad_request', 400, 'This sign-in response does not match a sign-in started here. Start again at /demo.');
    }
    ctx.cookies.set(COOKIE, null);
    const response = await fetch(`${internalBase()}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${DEMO_CLIENT_ID}:${clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: ctx.query.code, redirect_uri: redirectUri, code_verifier: verifier }),
    });
    const tokens = (await response.json()) as { id_token?: string; error?: string };
    if (!response.ok || !tokens.id_token) {
      throw new CurfewError('bad_request', 400, `The token exchange failed: ${tokens.error ?? response.status}.`);
    }
    const { payload } = await jwtVerify(tokens.id_token, jwks, { issuer: provider.issuer, audience: DEMO_CLIENT_ID });
    if (payload.nonce !== nonce) throw new CurfewError('bad_request', 400, 'The ID token does not answer this sign-in.');
    renderPage(ctx, 'demo', {
      claims: Object.entries(payload).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]),
      logout: `${provider.issuer}/session/end?${new URLSearchParams({ client_id: DEMO_CLIENT_ID, id_token_hint: tokens.id_token, post_logout_redirect_uri: `${provider.issuer}/demo/signed-out` })}`,
    });
  });

  router.get('/signed-out', (ctx) => {
    renderPage(ctx, 'logged-out', { client: DEMO_CLIENT_ID });
  });

  return router;
}
