import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationUrl, RP_CALLBACK, startCurfew, type Harness } from '../support/curfew.ts';

/** Client mistakes get protocol errors (RFC 6749 §4.1.2.1, §5.2), never a 500. */
describe('malformed requests', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startCurfew('memory');
  });
  afterAll(async () => {
    await h?.close();
  });

  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

  async function token(form: Record<string, string>, auth = basic('acme-app', 'acme-app-secret-0123456789')) {
    const res = await fetch(`${h.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
      body: new URLSearchParams(form),
    });
    return { status: res.status, body: (await res.json()) as { error?: string } };
  }

  it.each([
    ['no client_id', {}, 'invalid_request'],
    ['an unknown client', { client_id: 'nope', response_type: 'code', scope: 'openid', redirect_uri: RP_CALLBACK }, 'invalid_client'],
    ['an unregistered redirect_uri', { client_id: 'acme-app', response_type: 'code', scope: 'openid', redirect_uri: 'https://evil.example/cb' }, 'invalid_redirect_uri'],
  ])('shows an error page, not a redirect, for %s', async (_label, params, error) => {
    const res = await fetch(`${h.url}/auth?${new URLSearchParams(params as Record<string, string>)}`, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    const html = await res.text();
    expect(html).toContain(error);
    expect(html).not.toMatch(/at .*\.(js|ts):\d+/);
  });

  it('requires PKCE with S256', async () => {
    const rp = await h.rp('acme-app');
    const { url } = await authorizationUrl(rp);
    url.searchParams.delete('code_challenge');
    url.searchParams.delete('code_challenge_method');
    const res = await fetch(url, { redirect: 'manual' });
    const location = new URL(res.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/PKCE/);

    url.searchParams.set('code_challenge', 'x'.repeat(43));
    url.searchParams.set('code_challenge_method', 'plain');
    const plain = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!);
    expect(plain.searchParams.get('error')).toBe('invalid_request');
  });

  it('rejects response types other than code', async () => {
    const rp = await h.rp('acme-app');
    const { url } = await authorizationUrl(rp, { response_type: 'id_token' });
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBeLessThan(500);
    const location = res.headers.get('location');
    expect(location).toBeTruthy();
    // id_token responses default to the fragment response mode.
    const target = new URL(location!);
    expect(new URLSearchParams(target.hash.slice(1)).get('error') ?? target.searchParams.get('error')).toBe('unsupported_response_type');
  });

  it.each([
    ['an unknown grant type', { grant_type: 'password', username: 'a', password: 'b' }, 400, 'unsupported_grant_type'],
    ['no grant type', {}, 400, 'invalid_request'],
    ['a made-up code', { grant_type: 'authorization_code', code: 'made-up', redirect_uri: RP_CALLBACK, code_verifier: 'v'.repeat(43) }, 400, 'invalid_grant'],
    ['a made-up refresh token', { grant_type: 'refresh_token', refresh_token: 'made-up' }, 400, 'invalid_grant'],
  ])('answers %s at the token endpoint with an OAuth error', async (_label, form, status, error) => {
    const res = await token(form as Record<string, string>);
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(error);
  });

  it('answers a wrong client secret with invalid_client', async () => {
    const res = await token({ grant_type: 'client_credentials' }, basic('acme-app', 'wrong-secret'));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('answers a garbage body with an OAuth error', async () => {
    const res = await fetch(`${h.url}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it('answers an unknown interaction with a clear page, not a 500', async () => {
    const res = await fetch(`${h.url}/interaction/does-not-exist`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('This sign-in page has expired');
    const post = await fetch(`${h.url}/interaction/does-not-exist/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=a&password=b',
    });
    expect(post.status).toBe(400);
  });

  it('refuses an oversized login form with 413', async () => {
    const rp = await h.rp('acme-app');
    const ua = h.userAgent();
    const page = await ua.navigate((await authorizationUrl(rp)).url.href);
    const action = /action="([^"]+\/login)"/.exec(page.html)![1]!;
    const res = await ua.request(action, { form: { username: 'alice', password: 'x'.repeat(100_000) } });
    expect(res.status).toBe(413);
  });

  it('answers userinfo without a token with 401 invalid_token', async () => {
    const res = await fetch(`${h.url}/me`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_token' });
  });

  it('serves health, readiness and metrics', async () => {
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${h.url}/readyz`)).json()).toEqual({ status: 'ready', store: 'memory' });
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toContain('curfew_http_requests_total');
  });
});
