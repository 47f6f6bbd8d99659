import { describe, expect, it } from 'vitest';
import { capAccessTokenTtl } from '../../../src/oidc/enforcement/cap-access-token-ttl.ts';
import { enforcementState } from '../../../src/oidc/enforcement/request-state.ts';
import { oidcContext } from './world.ts';

function withRpSession(msLeft: number) {
  const ctx = oidcContext({});
  const now = Date.now();
  enforcementState(ctx).rpSession = { sessionUid: 's1', clientId: 'rp', expiresAt: now + msLeft, now, refreshIsActivity: false };
  return ctx;
}

describe('cap-access-token-ttl', () => {
  const ttl = capAccessTokenTtl(600);

  it('is the configured lifetime when no RP session was loaded (client credentials, or outside a request)', () => {
    expect(ttl(undefined)).toBe(600);
    expect(ttl(oidcContext({}))).toBe(600);
  });

  it('is the RP session\'s remaining life when that is shorter, in whole seconds', () => {
    expect(ttl(withRpSession(300_999))).toBe(300);
  });

  it('is the configured lifetime when the RP session outlives it', () => {
    expect(ttl(withRpSession(3_600_000))).toBe(600);
  });

  it('is never under a second (the library needs a positive integer)', () => {
    expect(ttl(withRpSession(1))).toBe(1);
  });
});
