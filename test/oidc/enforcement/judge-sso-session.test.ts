import { interactionPolicy } from 'oidc-provider';
import { describe, expect, it } from 'vitest';
import { judgeSsoSession } from '../../../src/oidc/enforcement/judge-sso-session.ts';
import { enforcementState } from '../../../src/oidc/enforcement/request-state.ts';
import { enforcementWorld, IDLE_SECONDS, oidcContext, SHORT_IDLE_SECONDS } from './world.ts';

const { Check } = interactionPolicy;

function request(uid: string, client = 'rp', extra: { none?: boolean; login?: boolean } = {}) {
  return oidcContext({
    session: { uid, accountId: 'alice', acr: 'urn:curfew:acr:pwd', authorizations: { [client]: { sid: `sid-${client}` } } },
    client: { clientId: client },
    prompts: new Set(extra.none ? ['none'] : []),
    ...(extra.login ? { result: { login: { accountId: 'alice' } } } : {}),
  });
}

describe('judge-sso-session', () => {
  it('lets a live session through and notes the live RP session for record-rp-session', async () => {
    const w = await enforcementWorld();
    await w.signIn('s1');
    const step = judgeSsoSession(w);
    const ctx = request('s1');
    expect(await step.check(ctx)).toBe(Check.NO_NEED_TO_PROMPT);
    expect(enforcementState(ctx).rpAlive).toEqual({ sessionUid: 's1', clientId: 'rp' });
  });

  it('is alive 1 ms before the idle deadline and ends the session at it, forgetting the sign-in', async () => {
    const w = await enforcementWorld();
    await w.signIn('s1');
    const step = judgeSsoSession(w);
    w.clock.advance(IDLE_SECONDS * 1000 - 1);
    // prompt=none is not activity: the deadline does not move.
    expect(await step.check(request('s1', 'rp', { none: true }))).toBe(Check.NO_NEED_TO_PROMPT);
    w.clock.advance(1);
    const ctx = request('s1', 'rp', { none: true });
    expect(await step.check(ctx)).toBe(Check.REQUEST_PROMPT);
    expect(ctx.oidc.session?.accountId).toBeUndefined();
    expect(ctx.oidc.session?.authorizations).toEqual({});
    expect(await w.sessions.get('s1')).toBeUndefined();
    expect(w.ended.map((e) => [e.scope, e.reason])).toEqual([['sso', 'idle']]);
  });

  it('counts an interactive request as activity (SPEC §5), and prompt=none not', async () => {
    const w = await enforcementWorld();
    await w.signIn('s1');
    const step = judgeSsoSession(w);
    const signedIn = (await w.sessions.get('s1'))?.lastActiveAt;
    w.clock.advance(10_000);
    await step.check(request('s1', 'rp', { none: true }));
    expect((await w.sessions.get('s1'))?.lastActiveAt).toBe(signedIn);
    await step.check(request('s1'));
    expect((await w.sessions.get('s1'))?.lastActiveAt).toBe(w.clock.now());
  });

  it('asks a client whose RP session died to sign in again, keeping the SSO session', async () => {
    const w = await enforcementWorld();
    await w.signIn('s1', ['rp', 'rp-short']);
    w.clock.advance(SHORT_IDLE_SECONDS * 1000);
    const ctx = request('s1', 'rp-short', { none: true });
    expect(await judgeSsoSession(w).check(ctx)).toBe(Check.REQUEST_PROMPT);
    expect(ctx.oidc.session?.accountId).toBe('alice');
    expect(ctx.oidc.session?.authorizations).toEqual({});
    expect(enforcementState(ctx).rpAlive).toBeUndefined();
    expect(w.ended.map((e) => [e.scope, e.reason, e.rps.map((rp) => rp.client)])).toEqual([['rp', 'idle', ['rp-short']]]);
  });

  it('leaves a sign-in that just finished to record-sign-in', async () => {
    const w = await enforcementWorld();
    // No session in the store at all: judging it would find it missing.
    expect(await judgeSsoSession(w).check(request('unknown', 'rp', { login: true }))).toBe(Check.NO_NEED_TO_PROMPT);
    expect(await judgeSsoSession(w).check(request('unknown'))).toBe(Check.REQUEST_PROMPT);
  });
});
