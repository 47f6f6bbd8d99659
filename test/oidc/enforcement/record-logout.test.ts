import { describe, expect, it } from 'vitest';
import { recordLogout } from '../../../src/oidc/enforcement/record-logout.ts';
import { enforcementWorld, oidcContext } from './world.ts';

describe('record-logout', () => {
  it('"Yes, sign me out" ends the SSO session and every RP session (reason logout)', async () => {
    const w = await enforcementWorld();
    await w.signIn('s1', ['rp', 'rp-other']);
    await recordLogout(w)(oidcContext({ route: 'end_session_confirm', session: { uid: 's1' }, params: { logout: 'yes' } }));
    // Answered once durable: the session is gone now; what the end owes follows.
    expect(await w.sessions.get('s1')).toBeUndefined();
    await w.sessions.settle();
    expect(w.ended.map((e) => [e.scope, e.reason, e.rps.map((rp) => rp.client).sort()])).toEqual([['sso', 'logout', ['rp', 'rp-other']]]);
  });

  it('"stay signed in" ends only the RP sessions the library dropped, keeping the SSO session', async () => {
    const w = await enforcementWorld();
    await w.signIn('s1', ['rp', 'rp-other']);
    // The asking client's authorization is gone; the other client's remains.
    await recordLogout(w)(oidcContext({ route: 'end_session_confirm', session: { uid: 's1', authorizations: { 'rp-other': { sid: 'sid-rp-other' } } }, params: {} }));
    const session = await w.sessions.get('s1');
    await w.sessions.settle();
    expect(session?.rps.rp?.endedAt).toBe(w.clock.now());
    expect(session?.rps['rp-other']?.endedAt).toBeUndefined();
    expect(w.ended.map((e) => [e.scope, e.reason, e.rps.map((rp) => rp.client)])).toEqual([['rp', 'logout', ['rp']]]);
  });
});
