import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createIdentifierHasher } from '../../src/crypto/identifier-hash.ts';

describe('createIdentifierHasher', () => {
  const hash = createIdentifierHasher('k'.repeat(32));

  it('is HMAC-SHA256 under the key, base64url: stable across instances sharing the key', () => {
    expect(hash('sso:abc')).toBe(createHmac('sha256', 'k'.repeat(32)).update('sso:abc').digest('base64url'));
    expect(createIdentifierHasher('k'.repeat(32))('sso:abc')).toBe(hash('sso:abc'));
    expect(hash('sso:abc')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('never yields the identifier, and differs per identifier and per key', () => {
    expect(hash('sso:abc')).not.toContain('abc');
    expect(hash('sso:abd')).not.toBe(hash('sso:abc'));
    expect(createIdentifierHasher('j'.repeat(32))('sso:abc')).not.toBe(hash('sso:abc'));
  });
});
