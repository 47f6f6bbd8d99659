import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationUrl, completeSignIn, PASSWORDS, signIn, startCurfew, type Harness, type SignIn } from '../support/curfew.ts';
import { REDIS_URL } from '../support/redis.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import type { UserAgent } from '../support/user-agent.ts';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const APP = basic('acme-app', 'acme-app-secret-0123456789');

/** A 503 that tells the client to come back, never a verdict on the session. */
async function expectUnavailable(res: Response, what: string, protocolError = true): Promise<void> {
  const body = await res.text();
  expect(res.status, `${what}: ${body.slice(0, 300)}`).toBe(503);
  expect(Number(res.headers.get('retry-after')), what).toBeGreaterThan(0);
  if (protocolError) expect(body, what).toContain('temporarily_unavailable');
}

/**
 * The authorization endpoint's outage answer. The client comes from this instance's cache of
 * clients (src/orgs/directory-cache.ts), so the provider knows its redirect URI and tells the RP
 * the OAuth way (RFC 6749 §4.1.2.1: `error=temporarily_unavailable`); a client it cannot know
 * gets the 503 page. Either way no code, and never `login_required` for a session that may be alive.
 */
async function expectUnavailableAuthorization(page: { status: number; html: string; headers: Headers }, what: string): Promise<void> {
  const location = page.headers.get('location');
  if (page.status === 503 || !location) {
    await expectUnavailable(new Response(page.html, { status: page.status, headers: page.headers }), what);
    return;
  }
  expect(page.status, what).toBe(303);
  const answer = new URL(location).searchParams;
  expect(answer.get('error'), what).toBe('temporarily_unavailable');
  expect(answer.get('code'), what).toBeNull();
}

describe('honest outages: while Redis cannot answer (a frozen network)', () => {
  let proxy: TcpProxy;
  let h: Harness;
  let ua: UserAgent;
  let signed: SignIn;
  let adminToken: string;

  beforeAll(async () => {
    const upstream = new URL(REDIS_URL);
    proxy = new TcpProxy({ host: upstream.hostname, port: Number(upstream.port || 6379) });
    const port = await proxy.start();
    h = await startCurfew('redis', { redis: { url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 300 } });
    ua = h.userAgent();
    signed = await signIn(h, ua, 'acme-app', 'alice');
    adminToken = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: 'admin' })).access_token;
  });
  afterAll(async () => {
    proxy?.thaw();
    await h?.close();
    await proxy?.close();
  });

  it('answers 503 + Retry-After (temporarily_unavailable) everywhere, ends nothing, and recovers with no restart', async () => {
    // A sign-in page opened before the outage, submitted during it.
    const stranger = h.userAgent();
    const loginPage = await stranger.navigate((await authorizationUrl(await h.rp('acme-app'))).url.href);
    expect(loginPage.html).toContain('/login"');
    const rp = await h.rp('acme-app');
    const refreshToken = signed.tokens.refresh_token!;
    const sid = signed.claims.sid as string;

    // Built now: the RP's discovery reads the store too. The instance has not read this client yet.
    const partnerRequest = (await authorizationUrl(await h.rp('acme-partner'), { prompt: 'none' })).url.href;
    proxy.freeze();
    const form = (body: Record<string, string>) => ({ method: 'POST', headers: { authorization: APP, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
    const [refresh, status, activity, userinfo, introspection, revocation, admin, readyz, healthz] = await Promise.all([
      fetch(`${h.url}/token`, form({ grant_type: 'refresh_token', refresh_token: refreshToken })),
      fetch(`${h.url}/session/status?sid=${sid}`, { headers: { authorization: APP } }),
      fetch(`${h.url}/session/activity`, form({ sid })),
      fetch(`${h.url}/me`, { headers: { authorization: `Bearer ${signed.tokens.access_token}` } }),
      fetch(`${h.url}/token/introspection`, form({ token: signed.tokens.access_token })),
      fetch(`${h.url}/token/revocation`, form({ token: refreshToken, token_type_hint: 'refresh_token' })),
      fetch(`${h.url}/admin/api/v1/orgs/acme/policy`, { headers: { authorization: `Bearer ${adminToken}` } }),
      fetch(`${h.url}/readyz`),
      fetch(`${h.url}/healthz`),
    ]);
    await expectUnavailable(refresh, '/token refresh');
    expect(refresh.headers.get('content-type')).toContain('json');
    await expectUnavailable(status, '/session/status');
    await expectUnavailable(activity, '/session/activity');
    await expectUnavailable(userinfo, '/me');
    await expectUnavailable(introspection, '/token/introspection');
    await expectUnavailable(revocation, '/token/revocation');
    await expectUnavailable(admin, 'admin API');
    await expectUnavailable(readyz, '/readyz', false);
    expect(healthz.status).toBe(200);

    const silent = await ua.request((await authorizationUrl(rp, { prompt: 'none' })).url.href);
    await expectUnavailableAuthorization(silent, '/auth prompt=none');
    const interactive = await ua.request((await authorizationUrl(rp)).url.href);
    await expectUnavailableAuthorization(interactive, '/auth interactive');
    // A client this instance has not read yet is unknown while the store is away: the 503 page.
    const unknown = await ua.request(partnerRequest);
    await expectUnavailable(new Response(unknown.html, { status: unknown.status, headers: unknown.headers }), '/auth, a client not cached');
    const login = await stranger.submit(loginPage, '/login', { username: 'alice', password: PASSWORDS.alice });
    await expectUnavailable(new Response(login.html, { status: login.status, headers: login.headers }), 'login form');

    proxy.thaw();
    // Nothing was ended or revoked by the outage: the same refresh token, sid and browser session work.
    let refreshed: oidc.TokenEndpointResponse | undefined;
    for (let i = 0; i < 50 && !refreshed; i++) {
      refreshed = await oidc.refreshTokenGrant(rp, refreshToken).catch(async () => {
        await new Promise((r) => setTimeout(r, 100));
        return undefined;
      });
    }
    expect(refreshed?.access_token).toBeTruthy();
    const after = await fetch(`${h.url}/session/status?sid=${sid}`, { headers: { authorization: APP } });
    expect(await after.json()).toMatchObject({ active: true });
    const request = await authorizationUrl(rp, { prompt: 'none' });
    const again = await ua.navigate(request.url.href);
    expect(again.leftTo).toBeTruthy();
    expect(new URL(again.leftTo!).searchParams.get('error')).toBeNull();
    await completeSignIn(rp, again.leftTo!, request);
    expect((await fetch(`${h.url}/readyz`)).status).toBe(200);
  });
});
