import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type Provider from 'oidc-provider';
import { CurfewError, StoreUnavailableError } from '../errors.ts';

export interface InternalRpOptions {
  provider: Provider;
  clientId: (ctx: Context) => string;
  clientSecret: (clientId: string) => string;
  redirectUri: string;
  /** Where this process's own token endpoint answers (the issuer may be a public name). */
  internalBase: () => string;
  publicJwks: JSONWebKeySet;
  /** Signed cookie holding the PKCE verifier, state and nonce between the two legs. */
  cookie: string;
}

export interface InternalRp {
  /** Redirects the browser to Curfew's authorization endpoint, as a code + PKCE client. */
  begin(ctx: Context, extra?: Record<string, string>): void;
  /** Finishes at the redirect URI: checks state, redeems the code, verifies the ID token. */
  complete(ctx: Context): Promise<{ clientId: string; idToken: string; claims: JWTPayload & Record<string, unknown> }>;
}

/**
 * Curfew's own relying parties (the demo app, the admin console) sign in through Curfew like
 * any other RP — code flow, PKCE, state, nonce, signature checks — so they get Curfew's
 * deadlines, step-up and back-channel logout too.
 */
export function internalRp(o: InternalRpOptions): InternalRp {
  const jwks = createLocalJWKSet(o.publicJwks);
  return {
    begin(ctx, extra = {}) {
      const clientId = o.clientId(ctx);
      const verifier = randomBytes(32).toString('base64url');
      const state = randomBytes(16).toString('base64url');
      const nonce = randomBytes(16).toString('base64url');
      ctx.cookies.set(o.cookie, JSON.stringify({ verifier, state, nonce, clientId }), { signed: true, httpOnly: true, sameSite: 'lax', maxAge: 600_000 });
      const url = new URL(`${o.provider.issuer}/auth`);
      url.search = new URLSearchParams({
        client_id: clientId,
        response_type: 'code',
        scope: 'openid profile',
        redirect_uri: o.redirectUri,
        state,
        nonce,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        ...extra,
      }).toString();
      ctx.redirect(url.href);
    },

    async complete(ctx) {
      const saved = ctx.cookies.get(o.cookie, { signed: true });
      let pending: { verifier?: string; state?: string; nonce?: string; clientId?: string } = {};
      try {
        pending = saved ? JSON.parse(saved) : {};
      } catch {
        pending = {};
      }
      if (typeof ctx.query.error === 'string') {
        throw new CurfewError('bad_request', `The sign-in ended with "${ctx.query.error}".`);
      }
      if (!pending.verifier || !pending.clientId || ctx.query.state !== pending.state || typeof ctx.query.code !== 'string') {
        throw new CurfewError('bad_request', 'This sign-in response does not match a sign-in started here. Start again.');
      }
      ctx.cookies.set(o.cookie, null);
      const response = await fetch(`${o.internalBase()}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(pending.clientId)}:${encodeURIComponent(o.clientSecret(pending.clientId))}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: ctx.query.code, redirect_uri: o.redirectUri, code_verifier: pending.verifier }),
      });
      const tokens = (await response.json()) as { id_token?: string; error?: string };
      // Curfew's own store could not answer: the sign-in is not wrong, the moment is.
      if (response.status === 503) throw new StoreUnavailableError();
      if (!response.ok || !tokens.id_token) {
        throw new CurfewError('bad_request', `The token exchange failed: ${tokens.error ?? response.status}.`);
      }
      const { payload } = await jwtVerify(tokens.id_token, jwks, { issuer: o.provider.issuer, audience: pending.clientId });
      if (payload.nonce !== pending.nonce) throw new CurfewError('bad_request', 'The ID token does not answer this sign-in.');
      return { clientId: pending.clientId, idToken: tokens.id_token, claims: payload as JWTPayload & Record<string, unknown> };
    },
  };
}
