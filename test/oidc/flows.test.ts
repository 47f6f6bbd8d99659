import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizationUrl,
  completeSignIn,
  PASSWORDS,
  RP_LOGGED_OUT,
  signIn,
  startCurfew,
  STORE_KINDS,
  type Harness,
} from '../support/curfew.ts';

describe.each(STORE_KINDS)('OIDC flows over real HTTP (%s store)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startCurfew(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  describe('discovery', () => {
    it('publishes the code flow with S256 PKCE, back-channel logout and the session claims', async () => {
      const res = await fetch(`${h.url}/.well-known/openid-configuration`);
      expect(res.status).toBe(200);
      const meta = (await res.json()) as Record<string, unknown>;
      expect(meta.issuer).toBe(h.url);
      expect(meta.response_types_supported).toEqual(['code']);
      expect(meta.code_challenge_methods_supported).toEqual(['S256']);
      expect(meta.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']));
      expect(meta.backchannel_logout_supported).toBe(true);
      expect(meta.backchannel_logout_session_supported).toBe(true);
      expect(meta.claims_supported).toEqual(expect.arrayContaining(['sub', 'acr', 'amr', 'auth_time', 'sid']));
      expect(meta.acr_values_supported).toEqual(['urn:curfew:acr:pwd', 'urn:curfew:acr:mfa']);
      for (const endpoint of ['introspection_endpoint', 'revocation_endpoint', 'userinfo_endpoint', 'end_session_endpoint', 'jwks_uri']) {
        expect(meta[endpoint], endpoint).toMatch(new RegExp(`^${h.url}/`));
      }
    });

    it('serves RS256 and ES256 public keys, and no private member', async () => {
      const jwks = (await (await fetch(`${h.url}/jwks`)).json()) as { keys: Record<string, unknown>[] };
      expect(jwks.keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
      for (const key of jwks.keys) for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(member);
    });
  });

  describe('authorization code flow with PKCE and a password', () => {
    it('signs alice in and issues an ID token with sid, acr, amr and auth_time', async () => {
      const before = Math.floor(Date.now() / 1000);
      const { tokens, claims } = await signIn(h, h.userAgent(), 'acme-app', 'alice');
      const alice = await h.store.directory.findUserByName('acme', 'alice');
      expect(claims.sub).toBe(alice!.id);
      expect(claims.aud).toBe('acme-app');
      expect(claims.iss).toBe(h.url);
      expect(claims.acr).toBe('urn:curfew:acr:pwd');
      expect(claims.amr).toEqual(['pwd']);
      expect(claims.auth_time).toBeGreaterThanOrEqual(before - 1);
      expect(typeof claims.sid).toBe('string');
      expect(claims.preferred_username).toBe('alice');
      expect(tokens.refresh_token).toBeTruthy();
      expect(tokens.token_type.toLowerCase()).toBe('bearer');
    });

    it('audits the sign-in and the start of the session', async () => {
      await signIn(h, h.userAgent(), 'acme-app', 'alice');
      const page = await h.store.audit.query({ org: 'acme', limit: 20 });
      const types = page.items.map((e) => e.type);
      expect(types).toContain('login.succeeded');
      expect(types).toContain('session.started');
      const started = page.items.find((e) => e.type === 'session.started')!;
      expect(started.client).toBe('acme-app');
      expect(started.session).toBeTruthy();
    });

    it('signs a public client in with PKCE alone', async () => {
      const { claims } = await signIn(h, h.userAgent(), 'acme-spa', 'alice');
      expect(claims.aud).toBe('acme-spa');
    });

    it('reuses the browser session for a second app of the org without a new login, with its own sid', async () => {
      const ua = h.userAgent();
      const first = await signIn(h, ua, 'acme-app', 'alice');
      const rp = await h.rp('acme-other');
      const request = await authorizationUrl(rp);
      const page = await ua.navigate(request.url.href);
      expect(page.leftTo).toBeDefined();
      const second = await completeSignIn(rp, page.leftTo!, request);
      expect(second.claims.sub).toBe(first.claims.sub);
      expect(second.claims.sid).not.toBe(first.claims.sid);
    });

    it('asks for consent for a third-party app and not again once given', async () => {
      const ua = h.userAgent();
      const rp = await h.rp('acme-partner');
      const request = await authorizationUrl(rp);
      const login = await ua.navigate(request.url.href);
      const consent = await ua.submit(login, '/login', { username: 'alice', password: PASSWORDS.alice });
      expect(consent.html).toContain('Allow access?');
      const done = await ua.submit(consent, '/confirm');
      const { claims } = await completeSignIn(rp, done.leftTo!, request);
      expect(claims.aud).toBe('acme-partner');

      const again = await authorizationUrl(rp);
      const page = await ua.navigate(again.url.href);
      expect(page.leftTo).toContain('code=');
    });

    it('returns access_denied when the user cancels', async () => {
      const ua = h.userAgent();
      const rp = await h.rp('acme-app');
      const request = await authorizationUrl(rp);
      const login = await ua.navigate(request.url.href);
      const cancelled = await ua.submit(login, '/abort');
      expect(new URL(cancelled.leftTo!).searchParams.get('error')).toBe('access_denied');
    });
  });

  describe('tokens', () => {
    let tokens: Awaited<ReturnType<typeof signIn>>['tokens'];
    let sub: string;
    beforeAll(async () => {
      const result = await signIn(h, h.userAgent(), 'acme-app', 'alice');
      tokens = result.tokens;
      sub = result.claims.sub;
    });

    it('refreshes: new access token, same sid, rotated refresh token', async () => {
      const rp = await h.rp('acme-app');
      const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
      expect(refreshed.access_token).not.toBe(tokens.access_token);
      expect(refreshed.claims()!.sid).toBe(tokens.claims()!.sid);
      expect(refreshed.claims()!.sub).toBe(sub);
      expect(refreshed.refresh_token).toBeTruthy();
      tokens = refreshed;
    });

    it('answers userinfo for the access token', async () => {
      const rp = await h.rp('acme-app');
      const info = await oidc.fetchUserInfo(rp, tokens.access_token, sub);
      expect(info).toMatchObject({ sub, preferred_username: 'alice', org: 'acme' });
    });

    it('introspects for the client itself and its org, never for another org', async () => {
      const own = await oidc.tokenIntrospection(await h.rp('acme-app'), tokens.access_token);
      expect(own).toMatchObject({ active: true, sub, client_id: 'acme-app' });
      const sameOrg = await oidc.tokenIntrospection(await h.rp('acme-other'), tokens.access_token);
      expect(sameOrg.active).toBe(true);
      const otherOrg = await oidc.tokenIntrospection(await h.rp('globex-app'), tokens.access_token);
      expect(otherOrg.active).toBe(false);
    });

    it('revokes a refresh token: it no longer introspects or refreshes', async () => {
      const rp = await h.rp('acme-app');
      const { tokens: fresh } = await signIn(h, h.userAgent(), 'acme-app', 'alice');
      await oidc.tokenRevocation(rp, fresh.refresh_token!);
      expect((await oidc.tokenIntrospection(rp, fresh.refresh_token!)).active).toBe(false);
      await expect(oidc.refreshTokenGrant(rp, fresh.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    });

    it('issues admin-scoped client-credentials tokens only to admin API clients', async () => {
      const admin = await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: 'admin' });
      expect(admin.scope).toBe('admin');
      await expect(oidc.clientCredentialsGrant(await h.rp('acme-app'), { scope: 'admin' })).rejects.toMatchObject({
        status: 400,
        error_description: 'requested grant type is not allowed for this client',
      });
    });
  });

  describe('RP-initiated logout', () => {
    it('ends the browser session and the grant: refresh fails and prompt=none needs a login', async () => {
      const ua = h.userAgent();
      const rp = await h.rp('acme-app');
      const { tokens } = await signIn(h, ua, 'acme-app', 'alice');
      const endUrl = oidc.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: RP_LOGGED_OUT, state: 'bye' });
      const confirm = await ua.navigate(endUrl.href);
      expect(confirm.html).toContain('Sign out?');
      const done = await ua.submit(confirm, '/session/end/confirm', { logout: 'yes' });
      expect(done.leftTo).toBe(`${RP_LOGGED_OUT}?state=bye`);

      await expect(oidc.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      const silent = await authorizationUrl(rp, { prompt: 'none' });
      const page = await ua.navigate(silent.url.href);
      expect(new URL(page.leftTo!).searchParams.get('error')).toBe('login_required');
    });

    it('shows Curfew\'s own signed-out page without a redirect URI', async () => {
      const ua = h.userAgent();
      await signIn(h, ua, 'acme-app', 'alice');
      const confirm = await ua.navigate(`${h.url}/session/end`);
      const done = await ua.submit(confirm, '/session/end/confirm', { logout: 'yes' });
      expect(done.status).toBe(200);
      expect(done.html).toContain('You are signed out');
    });
  });

  describe('organizations', () => {
    it('does not sign a user in to another org\'s app', async () => {
      const ua = h.userAgent();
      const rp = await h.rp('acme-app');
      const request = await authorizationUrl(rp);
      const login = await ua.navigate(request.url.href);
      const page = await ua.submit(login, '/login', { username: 'carol', password: PASSWORDS.carol });
      expect(page.leftTo).toBeUndefined();
      expect(page.html).toContain('Invalid username or password.');
    });

    it('answers access_denied when a browser signed in to one org reaches another org\'s app', async () => {
      const ua = h.userAgent();
      await signIn(h, ua, 'acme-app', 'alice');
      const rp = await h.rp('globex-app');
      const request = await authorizationUrl(rp);
      const page = await ua.navigate(request.url.href);
      const callback = new URL(page.leftTo!);
      expect(callback.searchParams.get('error')).toBe('access_denied');
      expect(callback.searchParams.get('code')).toBeNull();

      const silent = await authorizationUrl(rp, { prompt: 'none' });
      const silentPage = await ua.navigate(silent.url.href);
      expect(new URL(silentPage.leftTo!).searchParams.get('error')).toBe('access_denied');
    });
  });
});
