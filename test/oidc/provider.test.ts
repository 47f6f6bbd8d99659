import { once } from 'node:events';
import { Writable } from 'node:stream';
import type Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { createIdentifierHasher } from '../../src/crypto/identifier-hash.ts';
import { createLogger } from '../../src/logger.ts';
import { createEnforcement } from '../../src/oidc/enforcement/index.ts';
import { loadKeyMaterial } from '../../src/oidc/keys.ts';
import { createProvider } from '../../src/oidc/provider.ts';
import { createClientSecrets } from '../../src/orgs/client-secret.ts';
import { client } from '../support/operations.ts';
import { freePort } from '../support/process.ts';
import { enforcementWorld } from './enforcement/world.ts';

const CC_SECONDS = 321;
const secretOf = (id: string) => `${id}-secret-0123456789abcdef`;
const basic = (id: string, secret = secretOf(id)) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/**
 * createProvider alone — no interactions, no Curfew routes — served over real HTTP, over the
 * memory store with the real session, MFA and enforcement services (the enforcement world).
 */
describe('oidc-provider configured for Curfew (src/oidc/provider.ts)', () => {
  let url: string;
  let server: { close(): Promise<void> };
  let provider: ReturnType<typeof createProvider>;
  const logs: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const config = loadConfig({}, { issuer: url, trustProxy: true, trustProxyHops: 2, 'tokens.clientCredentialsSeconds': CC_SECONDS });
    const w = await enforcementWorld();
    const keys = await loadKeyMaterial(config, w.store.secrets);
    const clientSecrets = createClientSecrets(keys.identifierKey);
    const confidential = (id: string, org: string, adminApi = false) =>
      client(id, org, { adminApi, token_endpoint_auth_method: 'client_secret_basic', client_secret_hash: clientSecrets.seal(secretOf(id)), grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], redirect_uris: ['https://app.example/callback'] });
    await w.store.directory.putClient(confidential('acme-admin', 'acme', true));
    await w.store.directory.putClient(confidential('acme-rs', 'acme'));
    await w.store.directory.putClient(confidential('globex-rs', 'globex'));
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk));
        done();
      },
    });
    provider = createProvider({
      config,
      store: w.store,
      keys,
      hash: createIdentifierHasher(keys.identifierKey),
      clientSecrets,
      logger: createLogger('debug', sink),
      sessions: w.sessions,
      enforcement: createEnforcement({ sessions: w.sessions, directory: w.store.directory, mfa: w.mfa, accessTokenSeconds: config.tokens.accessTokenSeconds }),
    });
    // The provider is a Koa application of its own, served at its issuer.
    const app: Koa = provider;
    const listening = app.listen(port, '127.0.0.1');
    await once(listening, 'listening');
    server = { close: () => new Promise<void>((resolve) => listening.close(() => resolve())) };
  });
  afterAll(async () => {
    await server?.close();
  });

  const post = (path: string, authorization: string, form: Record<string, string>) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  async function adminToken(): Promise<string> {
    const res = await post('/token', basic('acme-admin'), { grant_type: 'client_credentials', scope: 'admin' });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  it('publishes only the code flow with S256 PKCE, secret-based or no client auth, RS256/ES256 ID tokens and Curfew\'s acr values', async () => {
    const meta = (await (await fetch(`${url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(meta.response_types_supported).toEqual(['code']);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'none']);
    expect(meta.id_token_signing_alg_values_supported).toEqual(['RS256', 'ES256']);
    expect(meta.acr_values_supported).toEqual(['urn:curfew:acr:pwd', 'urn:curfew:acr:mfa']);
    expect(meta.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'admin']));
    expect(meta.claims_supported).toEqual(expect.arrayContaining(['sub', 'acr', 'amr', 'auth_time', 'sid', 'preferred_username', 'roles', 'org']));
    expect(meta.backchannel_logout_supported).toBe(true);
    for (const endpoint of ['introspection_endpoint', 'revocation_endpoint', 'userinfo_endpoint', 'end_session_endpoint']) expect(meta[endpoint], endpoint).toBeDefined();
  });

  it('issues client-credentials tokens for the configured lifetime, checking the hashed secret', async () => {
    const res = await post('/token', basic('acme-admin'), { grant_type: 'client_credentials', scope: 'admin' });
    expect(await res.json()).toMatchObject({ token_type: 'Bearer', expires_in: CC_SECONDS, scope: 'admin' });
    const wrong = await post('/token', basic('acme-admin', 'not-the-secret-0123456789abcdef'), { grant_type: 'client_credentials', scope: 'admin' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('lets a client introspect tokens of its own org only', async () => {
    const token = await adminToken();
    const ask = async (who: string) => ((await (await post('/token/introspection', basic(who), { token })).json()) as { active: boolean }).active;
    expect(await ask('acme-admin')).toBe(true);
    expect(await ask('acme-rs')).toBe(true);
    expect(await ask('globex-rs')).toBe(false);
  });

  it('lets a client revoke only its own tokens', async () => {
    const token = await adminToken();
    // RFC 7009 §2.2: the answer does not tell another client whether the token exists.
    expect((await post('/token/revocation', basic('acme-rs'), { token })).status).toBe(200);
    const introspect = async () => ((await (await post('/token/introspection', basic('acme-admin'), { token })).json()) as { active: boolean }).active;
    expect(await introspect()).toBe(true);
    expect((await post('/token/revocation', basic('acme-admin'), { token })).status).toBe(200);
    expect(await introspect()).toBe(false);
  });

  it('requires PKCE of every authorization request', async () => {
    const res = await fetch(`${url}/auth?${new URLSearchParams({ client_id: 'acme-rs', response_type: 'code', scope: 'openid', redirect_uri: 'https://app.example/callback' })}`, { redirect: 'manual' });
    const back = new URL(res.headers.get('location')!);
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('renders the provider\'s own errors as Curfew pages, with the protocol error and no stack', async () => {
    const res = await fetch(`${url}/auth?${new URLSearchParams({ client_id: 'nobody', response_type: 'code', scope: 'openid', redirect_uri: 'https://app.example/callback' })}`, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('invalid_client');
    expect(html).not.toMatch(/at .*\.(js|ts):\d+/);
  });

  it('logs a rejected request at debug with its event and error, and no secret', async () => {
    await post('/token', basic('acme-rs', 'a-wrong-secret-that-must-not-be-logged'), { grant_type: 'client_credentials' });
    const rejected = logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l.msg === 'provider rejected a request');
    expect(rejected).toContainEqual(expect.objectContaining({ component: 'oidc', event: 'grant.error', error: 'invalid_client', level: 20 }));
    expect(logs.join('\n')).not.toContain('a-wrong-secret-that-must-not-be-logged');
  });

  it('trusts as many proxy hops as configured', () => {
    expect(provider.proxy).toBe(true);
    expect(provider.maxIpsCount).toBe(2);
  });
});
