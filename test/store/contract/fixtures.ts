import type { AuditRecord } from '../../../src/audit/types.ts';
import type { ClientRecord, Org, User } from '../../../src/orgs/types.ts';

export const user = (over: Partial<User> = {}): User => ({
  id: 'usr_1',
  org: 'acme',
  username: 'alice',
  passwordHash: '$argon2id$fake',
  roles: ['staff'],
  disabled: false,
  createdAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

export const client = (over: Partial<ClientRecord> = {}): ClientRecord => ({
  client_id: 'wiki',
  org: 'acme',
  client_secret_hash: 'hmac-sha256:c2VjcmV0LTAxMjM0NTY3ODlhYmNkZWY',
  redirect_uris: ['https://wiki.example/cb'],
  post_logout_redirect_uris: [],
  backchannel_logout_session_required: true,
  adminApi: false,
  firstParty: true,
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['authorization_code', 'refresh_token'],
  id_token_signed_response_alg: 'RS256',
  createdAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

export const org = (id: string, name = id.toUpperCase()): Org => ({
  id,
  name,
  policy: {
    idleTimeoutSeconds: 900,
    absoluteTimeoutSeconds: 3600,
    warningSeconds: 60,
    mfa: 'off',
    refreshIsActivity: false,
    allowEnrollmentAtReentry: false,
    rules: [],
    ceilings: { idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 86400 },
  },
});

export const seqOf = (record: AuditRecord) => record.data!.i as number;
