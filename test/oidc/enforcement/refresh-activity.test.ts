import { describe, expect, it } from 'vitest';
import { bindTokenToRpSession } from '../../../src/oidc/enforcement/bind-token-to-rp-session.ts';
import { refreshActivity } from '../../../src/oidc/enforcement/refresh-activity.ts';
import { enforcementWorld, oidcContext } from './world.ts';

describe('refresh-activity', () => {
  async function refreshed(client: string, status: number) {
    const w = await enforcementWorld();
    await w.signIn('s1', [client]);
    const before = (await w.sessions.get('s1'))?.rps[client]?.lastActiveAt;
    w.clock.advance(30_000);
    const ctx = oidcContext({ route: 'token' }, { status });
    // The grant loaded the refresh token first (what the table's `load` stage does).
    expect(await bindTokenToRpSession(w)(ctx, { sessionUid: 's1', clientId: client })).toBe(true);
    await refreshActivity(w)(ctx);
    const after = (await w.sessions.get('s1'))?.rps[client]?.lastActiveAt;
    return { moved: after !== before, now: w.clock.now(), after };
  }

  it('moves the RP session\'s lastActiveAt for a client whose rule makes refresh activity', async () => {
    const r = await refreshed('rp-refresh', 200);
    expect(r.after).toBe(r.now);
  });

  it('moves nothing for a client without the rule', async () => {
    expect((await refreshed('rp', 200)).moved).toBe(false);
  });

  it('moves nothing when the grant failed', async () => {
    expect((await refreshed('rp-refresh', 400)).moved).toBe(false);
  });
});
