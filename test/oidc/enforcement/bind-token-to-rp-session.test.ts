import { describe, expect, it } from 'vitest';
import { bindTokenToRpSession } from '../../../src/oidc/enforcement/bind-token-to-rp-session.ts';
import { enforcementState } from '../../../src/oidc/enforcement/request-state.ts';
import { enforcementWorld, IDLE_SECONDS, oidcContext } from './world.ts';

describe('bind-token-to-rp-session', () => {
  it('accepts a token of a live RP session and keeps what later steps need', async () => {
    const w = await enforcementWorld();
    await w.signIn('s1', ['rp-refresh']);
    const ctx = oidcContext({});
    w.clock.advance(5_000);
    expect(await bindTokenToRpSession(w)(ctx, { sessionUid: 's1', clientId: 'rp-refresh' })).toBe(true);
    const signedInAt = w.clock.now() - 5_000;
    expect(enforcementState(ctx).rpSession).toEqual({
      sessionUid: 's1',
      clientId: 'rp-refresh',
      expiresAt: signedInAt + IDLE_SECONDS * 1000,
      now: w.clock.now(),
      refreshIsActivity: true,
    });
  });

  it('is passive: loading a token moves no deadline', async () => {
    const w = await enforcementWorld();
    await w.signIn('s1');
    const before = await w.sessions.get('s1');
    w.clock.advance(60_000);
    await bindTokenToRpSession(w)(undefined, { sessionUid: 's1', clientId: 'rp' });
    expect((await w.sessions.get('s1'))?.lastActiveAt).toBe(before?.lastActiveAt);
  });

  it('refuses a token 0 ms after its session\'s idle deadline (1 ms before, it is usable), and ends the session', async () => {
    const w = await enforcementWorld();
    await w.signIn('s1');
    const bind = bindTokenToRpSession(w);
    w.clock.advance(IDLE_SECONDS * 1000 - 1);
    expect(await bind(undefined, { sessionUid: 's1', clientId: 'rp' })).toBe(true);
    w.clock.advance(1);
    const ctx = oidcContext({});
    expect(await bind(ctx, { sessionUid: 's1', clientId: 'rp' })).toBe(false);
    expect(enforcementState(ctx).rpSession).toBeUndefined();
    expect(w.ended.map((e) => e.reason)).toEqual(['idle']);
  });

  it('refuses a token of a client with no RP session in that SSO session', async () => {
    const w = await enforcementWorld();
    await w.signIn('s1', ['rp']);
    expect(await bindTokenToRpSession(w)(undefined, { sessionUid: 's1', clientId: 'rp-other' })).toBe(false);
    expect(await bindTokenToRpSession(w)(undefined, { sessionUid: 'nobody', clientId: 'rp' })).toBe(false);
  });
});
