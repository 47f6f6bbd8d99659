import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createIdentifierHasher } from '../../src/store/identifier-hash.ts';

describe('identifier hashing', () => {
  it('is HMAC-SHA256 under the key, base64url: deterministic, keyed, and never the identifier', () => {
    const hash = createIdentifierHasher('k'.repeat(32));
    const id = 'session-cookie-value';
    expect(hash(id)).toBe(createHmac('sha256', 'k'.repeat(32)).update(id).digest('base64url'));
    expect(hash(id)).toBe(hash(id));
    expect(hash(id)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hash(id)).not.toContain(id);
    expect(hash('other')).not.toBe(hash(id));
    expect(createIdentifierHasher('j'.repeat(32))(id)).not.toBe(hash(id));
  });
});
