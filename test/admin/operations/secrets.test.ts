import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startCurfew, STORE_KINDS, testSeed, type Harness } from '../../support/curfew.ts';

const API = '/admin/api/v1/orgs/acme';

/**
 * Issue 12 item 1: secrets an admin hands out — a rotated client secret, a reset password — are
 * generated strong, shown once, stored only as hashes, never audited, and work at once while
 * what they replace stops working.
 */
describe.each(STORE_KINDS)('rotating a client secret and resetting a password (%s store)', (kind) => {
  let h: Harness;
  let token: string;
  beforeAll(async () => {
    h = await startCurfew(kind, { seed: testSeed() });
    token = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: 'admin' })).access_token;
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${h.url}${API}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, text, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> | undefined };
  };
  const auditText = async () => JSON.stringify((await h.store.audit.query({ org: 'acme', type: 'admin.write', limit: 50 })).items);

  it('a rotated secret is 256 random bits, returned once, hashed in the store, and replaces the old one at once', async () => {
    const first = await call('POST', '/clients/acme-other/secret');
    expect(first.status).toBe(200);
    const secret = String(first.body?.client_secret);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.body).toMatchObject({ client_id: 'acme-other', hasSecret: true, token_endpoint_auth_method: 'client_secret_basic' });
    expect(first.body).not.toHaveProperty('client_secret_hash');

    const second = await call('POST', '/clients/acme-other/secret');
    expect(second.body?.client_secret).not.toBe(secret);
    const stored = await h.store.directory.getClient('acme-other');
    expect(JSON.stringify(stored)).not.toContain(String(second.body?.client_secret));
    expect(stored?.client_secret_hash).toMatch(/^hmac-sha256:/);

    // Listing shows no secret; the audit names the rotation and holds neither secret.
    expect((await call('GET', '/clients')).text).not.toContain(String(second.body?.client_secret));
    const audit = await auditText();
    expect(audit).toContain('client.secret.rotate');
    expect(audit).not.toContain(secret);
    expect(audit).not.toContain(String(second.body?.client_secret));

    // The newest secret signs in; the seed's and the first rotation's no longer do.
    const ua = h.userAgent();
    await expect(signIn(h, ua, 'acme-other', 'alice')).rejects.toThrow();
    // A bogus refresh token: the client authenticates (invalid_grant) or does not (invalid_client).
    const grant = async (clientSecret: string) => {
      const res = await fetch(`${h.url}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`acme-other:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=refresh_token&refresh_token=bogus',
      });
      return ((await res.json()) as { error: string }).error;
    };
    expect(await grant(String(second.body?.client_secret))).toBe('invalid_grant');
    expect(await grant(secret)).toBe('invalid_client');
    expect(await grant('acme-other-secret-0123456789')).toBe('invalid_client');
  });

  it('refuses to rotate the console\'s own client, or another org\'s', async () => {
    expect((await call('POST', '/clients/curfew-console-acme/secret')).status).toBe(409);
    expect((await call('POST', '/clients/globex-app/secret')).status).toBe(404);
  });

  it('a reset password is generated, returned once, signs in, and the old one no longer does', async () => {
    const reset = await call('POST', '/users/alice/password', {});
    expect(reset.status).toBe(200);
    const password = String(reset.body?.password);
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect(await auditText()).not.toContain(password);
    const login = async (pw: string) => {
      const ua = h.userAgent();
      const rp = await h.rp('acme-app');
      const url = await oidc.buildAuthorizationUrl(rp, { redirect_uri: 'http://127.0.0.1:9/callback', scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
      const page = await ua.navigate(url.href);
      return ua.submit(page, '/login', { username: 'alice', password: pw });
    };
    expect((await login('alice password 1')).html).toContain('Invalid username or password.');
    expect((await login(password)).leftTo).toMatch(/^http:\/\/127\.0\.0\.1:9\/callback\?code=/);
  });
});
