import { describe, expect, it } from 'vitest';
import { recordSignIn } from '../../../src/oidc/enforcement/record-sign-in.ts';
import { enforcementState } from '../../../src/oidc/enforcement/request-state.ts';
import { enforcementWorld, IDLE_SECONDS, oidcContext } from './world.ts';

function signedIn(uid: string, login: boolean, accountId = 'alice') {
  return oidcContext({ session: { uid, accountId }, client: { clientId: 'rp' }, ...(login ? { result: { login: { accountId } } } : {}) }, { ip: '198.51.100.7' });
}

describe('record-sign-in', () => {
  it('starts the SSO session with the org\'s limits once a code was issued for the finished sign-in', async () => {
    const w = await enforcementWorld();
    const ctx = signedIn('s1', true);
    enforcementState(ctx).codeIssued = { sessionUid: 's1', clientId: 'rp' };
    await recordSignIn(w)(ctx);
    expect(await w.sessions.get('s1')).toMatchObject({ id: 's1', org: 'acme', user: 'alice', ip: '198.51.100.7', idleSeconds: IDLE_SECONDS, signedInAt: w.clock.now() });
  });

  it('records nothing without a finished sign-in or without a code', async () => {
    const w = await enforcementWorld();
    const noLogin = signedIn('s1', false);
    enforcementState(noLogin).codeIssued = { sessionUid: 's1', clientId: 'rp' };
    await recordSignIn(w)(noLogin);
    await recordSignIn(w)(signedIn('s2', true));
    expect(await w.sessions.get('s1')).toBeUndefined();
    expect(await w.sessions.get('s2')).toBeUndefined();
  });

  it('fails loudly when the user vanished during the sign-in (the code must not leave)', async () => {
    const w = await enforcementWorld();
    const ctx = signedIn('s1', true, 'ghost');
    enforcementState(ctx).codeIssued = { sessionUid: 's1', clientId: 'rp' };
    await expect(recordSignIn(w)(ctx)).rejects.toThrow(/vanished/);
  });
});
