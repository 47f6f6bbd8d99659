import { describe, expect, it } from 'vitest';
import { providerMetadata } from '../../src/oidc/client-metadata.ts';
import { client } from '../support/operations.ts';

describe('a Curfew client as oidc-provider metadata (src/oidc/client-metadata.ts)', () => {
  it('maps a confidential code client, with Curfew\'s own properties and its back-channel logout', () => {
    const record = client('rp', 'acme', { client_secret_hash: 'hmac-sha256:abc', token_endpoint_auth_method: 'client_secret_basic', post_logout_redirect_uris: ['https://app.example/bye'] });
    expect(providerMetadata(record)).toEqual({
      client_id: 'rp',
      redirect_uris: ['https://app.example/callback'],
      post_logout_redirect_uris: ['https://app.example/bye'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
      scope: 'openid profile',
      org: 'acme',
      firstParty: true,
      adminApi: false,
      client_secret: 'hmac-sha256:abc',
      backchannel_logout_uri: 'https://app.example/bcl',
      backchannel_logout_session_required: true,
    });
  });

  it('gives the provider only the secret\'s hash, and no secret at all for a public client', () => {
    expect(providerMetadata(client('public', 'acme'))).not.toHaveProperty('client_secret');
    expect(providerMetadata(client('rp', 'acme', { client_secret_hash: 'hmac-sha256:abc' })).client_secret).toBe('hmac-sha256:abc');
  });

  it('offers no response type to a client without the code grant', () => {
    const service = client('svc', 'acme', { grant_types: ['client_credentials'], adminApi: true, client_secret_hash: 'h' });
    expect(providerMetadata(service)).toMatchObject({ grant_types: ['client_credentials'], response_types: [] });
  });

  it('allows the admin scope to admin API clients only', () => {
    expect(providerMetadata(client('admin', 'acme', { adminApi: true })).scope).toBe('openid profile admin');
    expect(providerMetadata(client('app', 'acme')).scope).toBe('openid profile');
  });

  it('registers no back-channel logout for a client without a logout URI', () => {
    const metadata = providerMetadata(client('rp', 'acme', { backchannel_logout_uri: undefined }));
    expect(metadata).not.toHaveProperty('backchannel_logout_uri');
    expect(metadata).not.toHaveProperty('backchannel_logout_session_required');
  });
});
