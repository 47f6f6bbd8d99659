import { createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createClientSecrets, sealLegacyClientSecrets } from '../../src/orgs/client-secret.ts';
import { validatePolicy } from '../../src/sessions/policy-validate.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';

const secrets = createClientSecrets('a'.repeat(40));

describe('client secrets at rest', () => {
  it('are HMAC-SHA256 under a key derived from the identifier key: stored hashes stay valid however the key is held', () => {
    const key = Buffer.from(hkdfSync('sha256', 'a'.repeat(40), 'curfew', 'client secret', 32));
    const expected = `hmac-sha256:${createHmac('sha256', key).update('wiki-secret-0123456789').digest('base64url')}`;
    expect(secrets.seal('wiki-secret-0123456789')).toBe(expected);
    expect(secrets.matches(expected, 'wiki-secret-0123456789')).toBe(true);
  });

  it('are stored as a keyed hash that does not contain the secret', () => {
    const sealed = secrets.seal('wiki-secret-0123456789');
    expect(sealed).toMatch(/^hmac-sha256:[A-Za-z0-9_-]{43}$/);
    expect(sealed).not.toContain('wiki-secret');
    // Deterministic, so applying a seed twice changes nothing; keyed, so another key differs.
    expect(secrets.seal('wiki-secret-0123456789')).toBe(sealed);
    expect(createClientSecrets('b'.repeat(40)).seal('wiki-secret-0123456789')).not.toBe(sealed);
  });

  it('match only the secret itself: not another, not the stored hash, not a plaintext store value', () => {
    const sealed = secrets.seal('wiki-secret-0123456789');
    expect(secrets.matches(sealed, 'wiki-secret-0123456789')).toBe(true);
    expect(secrets.matches(sealed, 'wiki-secret-0123456788')).toBe(false);
    expect(secrets.matches(sealed, sealed)).toBe(false);
    expect(secrets.matches('wiki-secret-0123456789', 'wiki-secret-0123456789')).toBe(false);
    expect(secrets.matches(undefined, '')).toBe(false);
    expect(secrets.matches('hmac-sha256:short', 'x')).toBe(false);
  });

  it('written in the clear by an older Curfew are hashed in place at start', async () => {
    const store = createMemoryStore();
    const policy = validatePolicy({ idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 3600 }, { clients: [], roles: [] });
    if (!policy.ok) throw new Error('bad test policy');
    await store.directory.putOrg({ id: 'acme', name: 'Acme', policy: policy.policy });
    const legacy = {
      client_id: 'old', org: 'acme', client_secret: 'old-secret-0123456789', redirect_uris: ['https://old.example/cb'], post_logout_redirect_uris: [],
      backchannel_logout_session_required: true, adminApi: false, firstParty: true, token_endpoint_auth_method: 'client_secret_basic' as const,
      grant_types: ['authorization_code'], id_token_signed_response_alg: 'RS256' as const, createdAt: new Date(0).toISOString(),
    };
    await store.directory.putClient(legacy);
    expect(await sealLegacyClientSecrets(store.directory, secrets)).toBe(1);
    const now = await store.directory.getClient('old');
    expect(JSON.stringify(now)).not.toContain('old-secret-0123456789');
    expect(secrets.matches(now?.client_secret_hash, 'old-secret-0123456789')).toBe(true);
    expect(await sealLegacyClientSecrets(store.directory, secrets)).toBe(0);
  });
});
