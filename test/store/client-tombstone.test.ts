import { describe, expect, it } from 'vitest';
import { CLIENT_ID_UNAVAILABLE, tombstoneOf } from '../../src/store/client-tombstone.ts';
import { client } from '../support/operations.ts';

describe('a deleted client\'s tombstone', () => {
  it('keeps the id, the org, the back-channel URI and the ID token algorithm — no secret, no redirect URIs', () => {
    const record = client('acme-app', 'acme', { client_secret_hash: 'hmac-sha256:x', id_token_signed_response_alg: 'ES256' });
    expect(tombstoneOf(record, '2026-01-01T00:00:00.000Z')).toEqual({
      client_id: 'acme-app', org: 'acme', backchannel_logout_uri: 'https://app.example/bcl', id_token_signed_response_alg: 'ES256', deletedAt: '2026-01-01T00:00:00.000Z',
    });
  });

  it('has no back-channel URI when the client had none', () => {
    const { backchannel_logout_uri: _, ...rest } = client('acme-app', 'acme');
    expect(tombstoneOf(rest, 'now')).not.toHaveProperty('backchannel_logout_uri');
  });

  it('says the same of every unavailable id, naming no holder', () => {
    expect(CLIENT_ID_UNAVAILABLE).toBe('client_id is not available');
  });
});
