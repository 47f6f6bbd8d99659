import { describe, expect, it } from 'vitest';
import { createClientSecrets } from '../../src/orgs/client-secret.ts';
import { clientChangesSchema, clientInputSchema, clientRecord } from '../../src/orgs/client-validate.ts';

const secrets = createClientSecrets('i'.repeat(40));
const created = new Date().toISOString();

describe('a new client', () => {
  it('gets the creation defaults for what it does not send', () => {
    expect(clientInputSchema.parse({ client_id: 'app', redirect_uris: ['https://app.example/cb'] })).toEqual({
      client_id: 'app', redirect_uris: ['https://app.example/cb'], post_logout_redirect_uris: [], backchannel_logout_session_required: true,
      adminApi: false, firstParty: true, id_token_signed_response_alg: 'RS256',
    });
  });

  it('names every bad field at once, and refuses a field it does not know', () => {
    const result = clientInputSchema.safeParse({ client_id: 'bad id!', redirect_uris: ['https://app.example/cb#frag'], client_secret: 'short', extra: 1 });
    expect(result.success).toBe(false);
    const fields = result.error!.issues.map((i) => i.path.join('.') || i.code);
    expect(fields).toEqual(expect.arrayContaining(['client_id', 'redirect_uris.0', 'client_secret', 'unrecognized_keys']));
  });

  it('needs at least one redirect URI, absolute http(s)', () => {
    expect(clientInputSchema.safeParse({ client_id: 'app', redirect_uris: [] }).success).toBe(false);
    expect(clientInputSchema.safeParse({ client_id: 'app', redirect_uris: ['javascript:alert(1)'] }).success).toBe(false);
    expect(clientInputSchema.safeParse({ client_id: 'app', redirect_uris: ['/relative'] }).success).toBe(false);
  });
});

describe('a change to a client', () => {
  it('holds only the fields sent: no default resets an omitted one', () => {
    expect(clientChangesSchema.parse({ firstParty: false })).toEqual({ firstParty: false });
    expect(clientChangesSchema.parse({})).toEqual({});
    expect(clientChangesSchema.safeParse({ client_id: 'renamed' }).success).toBe(false);
  });
});

describe('clientRecord', () => {
  it('stores a confidential client with only its sealed secret', () => {
    const record = clientRecord(clientInputSchema.parse({ client_id: 'app', redirect_uris: ['https://app.example/cb'], client_secret: 'a-secret-of-16-chars+' }), 'acme', created, secrets);
    expect(record).toMatchObject({ client_id: 'app', org: 'acme', token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code', 'refresh_token'], createdAt: created });
    expect(record).not.toHaveProperty('client_secret');
    expect(secrets.matches(record.client_secret_hash, 'a-secret-of-16-chars+')).toBe(true);
  });

  it('makes a client without a secret public (PKCE only), and keeps a previous secret on update', () => {
    const input = clientInputSchema.parse({ client_id: 'spa', redirect_uris: ['https://spa.example/cb'] });
    const pub = clientRecord(input, 'acme', created, secrets);
    expect(pub.token_endpoint_auth_method).toBe('none');
    expect(pub).not.toHaveProperty('client_secret_hash');
    const previous = { ...pub, client_secret_hash: secrets.seal('kept-secret-0123456') };
    expect(clientRecord(input, 'acme', created, secrets, previous).client_secret_hash).toBe(previous.client_secret_hash);
  });

  it('grants client credentials to admin API clients only', () => {
    const admin = clientRecord(clientInputSchema.parse({ client_id: 'adm', redirect_uris: ['https://a.example/cb'], adminApi: true, client_secret: 'admin-secret-0123456' }), 'acme', created, secrets);
    expect(admin.grant_types).toContain('client_credentials');
  });
});
