import { describe, expect, it } from 'vitest';
import { recordRpSession } from '../../../src/oidc/enforcement/record-rp-session.ts';
import { enforcementState } from '../../../src/oidc/enforcement/request-state.ts';
import { enforcementWorld, oidcContext } from './world.ts';

function authorized(uid: string, client: string, login = false) {
  return oidcContext({
    session: { uid, accountId: 'alice', sidFor: (id) => `library-sid-${id}` },
    client: { clientId: client },
    ...(login ? { result: { login: { accountId: 'alice' } } } : {}),
  });
}

describe('record-rp-session', () => {
  it('starts the client\'s RP session with the code\'s sid and grant', async () => {
    const w = await enforcementWorld();
    await w.signIn('s1', []);
    const ctx = authorized('s1', 'rp-other');
    enforcementState(ctx).codeIssued = { sessionUid: 's1', clientId: 'rp-other', grantId: 'g1', sid: 'sid-from-code' };
    await recordRpSession(w)(ctx);
    expect((await w.sessions.get('s1'))?.rps['rp-other']).toMatchObject({ client: 'rp-other', sid: 'sid-from-code', grantId: 'g1' });
  });

  it('takes the session\'s sid for the client when the code carries none', async () => {
    const w = await enforcementWorld();
    await w.signIn('s1', []);
    const ctx = authorized('s1', 'rp');
    enforcementState(ctx).codeIssued = { sessionUid: 's1', clientId: 'rp' };
    await recordRpSession(w)(ctx);
    expect((await w.sessions.get('s1'))?.rps.rp?.sid).toBe('library-sid-rp');
  });

  it('skips the round trip when judge-sso-session found this RP session alive, unless a sign-in just finished', async () => {
    const w = await enforcementWorld();
    await w.signIn('s1', []);
    const known = authorized('s1', 'rp');
    enforcementState(known).codeIssued = { sessionUid: 's1', clientId: 'rp', sid: 'sid-new' };
    enforcementState(known).rpAlive = { sessionUid: 's1', clientId: 'rp' };
    await recordRpSession(w)(known);
    expect((await w.sessions.get('s1'))?.rps.rp).toBeUndefined();

    const afterLogin = authorized('s1', 'rp', true);
    enforcementState(afterLogin).codeIssued = { sessionUid: 's1', clientId: 'rp', sid: 'sid-new' };
    enforcementState(afterLogin).rpAlive = { sessionUid: 's1', clientId: 'rp' };
    await recordRpSession(w)(afterLogin);
    expect((await w.sessions.get('s1'))?.rps.rp?.sid).toBe('sid-new');
  });
});
