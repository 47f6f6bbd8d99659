import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startCurfew, STORE_KINDS, type Harness } from '../support/curfew.ts';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe.each(STORE_KINDS)('hashed client secrets (%s store)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startCurfew(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  const token = (authorization: string) =>
    fetch(`${h.url}/token`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=admin',
    });

  it('the store holds no client secret, only a hash', async () => {
    const stored = await h.store.directory.getClient('acme-admin');
    expect(JSON.stringify(stored)).not.toContain('acme-admin-secret-0123456789');
    expect(stored?.client_secret_hash).toMatch(/^hmac-sha256:/);
  });

  it('client_secret_basic with the secret works at the token endpoint; the stored hash as a secret does not', async () => {
    expect((await token(basic('acme-admin', 'acme-admin-secret-0123456789'))).status).toBe(200);
    const hash = (await h.store.directory.getClient('acme-admin'))!.client_secret_hash!;
    const withHash = await token(basic('acme-admin', hash));
    expect(withHash.status).toBe(401);
    expect(await withHash.json()).toMatchObject({ error: 'invalid_client' });
    expect((await token(basic('acme-admin', 'acme-admin-secret-0123456780'))).status).toBe(401);
  });

  it('the status endpoint uses the same comparison, with client_secret_basic and client_secret_post', async () => {
    const signed = await signIn(h, h.userAgent(), 'acme-app', 'alice');
    const sid = signed.claims.sid as string;
    const viaBasic = await fetch(`${h.url}/session/status?sid=${sid}`, { headers: { authorization: basic('acme-app', 'acme-app-secret-0123456789') } });
    expect(await viaBasic.json()).toMatchObject({ active: true });
    const viaPost = await fetch(`${h.url}/session/activity`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'acme-app', client_secret: 'acme-app-secret-0123456789', sid }),
    });
    expect(await viaPost.json()).toMatchObject({ active: true });
    const hash = (await h.store.directory.getClient('acme-app'))!.client_secret_hash!;
    const withHash = await fetch(`${h.url}/session/status?sid=${sid}`, { headers: { authorization: basic('acme-app', hash) } });
    expect(withHash.status).toBe(401);
  });

  it('offers nothing keyed by a client secret: no client_secret_jwt, no HS256', async () => {
    const discovery = (await (await fetch(`${h.url}/.well-known/openid-configuration`)).json()) as Record<string, string[] | undefined>;
    expect(discovery.token_endpoint_auth_methods_supported).not.toContain('client_secret_jwt');
    expect(discovery.id_token_signing_alg_values_supported).not.toContain('HS256');
    expect(discovery.request_object_signing_alg_values_supported ?? []).not.toContain('HS256');

    const admin = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: 'admin' })).access_token;
    const created = await fetch(`${h.url}/admin/api/v1/orgs/acme/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'hs-app', client_secret: 'hs-app-secret-0123456789', redirect_uris: ['https://hs.example/cb'], id_token_signed_response_alg: 'HS256' }),
    });
    expect(created.status).toBe(400);
    expect(JSON.stringify(await created.json())).toContain('id_token_signed_response_alg');
  });

  it('a client created through the admin API authenticates with the secret it was given, which is stored hashed', async () => {
    const admin = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: 'admin' })).access_token;
    const created = await fetch(`${h.url}/admin/api/v1/orgs/acme/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'wiki', client_secret: 'wiki-secret-0123456789', redirect_uris: ['https://wiki.example/cb'], adminApi: true }),
    });
    expect(created.status).toBe(201);
    const shown = await created.json();
    expect(JSON.stringify(shown)).not.toContain('hmac-sha256');
    expect(shown).toMatchObject({ hasSecret: true });
    expect(JSON.stringify(await h.store.directory.getClient('wiki'))).not.toContain('wiki-secret-0123456789');
    expect((await token(basic('wiki', 'wiki-secret-0123456789'))).status).toBe(200);
  });
});
