import { describe, expect, it } from 'vitest';
import { judge, nextDeadline, touched } from '../../src/sessions/judge.ts';
import type { RpSession, SsoSession } from '../../src/sessions/types.ts';

// Pinned from real now: the judge is pure, so only the distances matter.
const T0 = Date.now();
const MIN = 60_000;

function session(over: Partial<SsoSession> = {}): SsoSession {
  return {
    id: 'uid-1', org: 'acme', user: 'u1',
    signedInAt: T0, lastActiveAt: T0, idleSeconds: 30 * 60, absoluteSeconds: 8 * 3600, warningSeconds: 120,
    refreshIsActivity: false, rps: {}, ...over,
  };
}
function rp(over: Partial<RpSession> = {}): RpSession {
  return { client: 'app', sid: 'sid-1', sidKey: 'k1', startedAt: T0, lastActiveAt: T0, idleSeconds: 10 * 60, absoluteSeconds: 3600, ...over };
}

describe('judge: the SSO session', () => {
  it('is missing when there is no session, with or without a client', () => {
    expect(judge(undefined, undefined, T0)).toEqual({ now: T0, sso: 'missing' });
    expect(judge(undefined, 'app', T0)).toEqual({ now: T0, sso: 'missing', rp: 'missing' });
  });

  it('is alive 1 ms before its idle deadline and dead at it', () => {
    const s = session({ lastActiveAt: T0 + 5 * MIN });
    const idleAt = T0 + 5 * MIN + 30 * MIN;
    expect(judge(s, undefined, idleAt - 1).sso).toBe('alive');
    expect(judge(s, undefined, idleAt).sso).toBe('dead');
    expect(judge(s, undefined, idleAt).deadlines).toEqual({ idleAt, absoluteAt: T0 + 8 * 3600_000 });
  });

  it('is alive 1 ms before its absolute deadline and dead at it, however recent the activity', () => {
    const absoluteAt = T0 + 8 * 3600_000;
    const s = session({ lastActiveAt: absoluteAt - MIN });
    expect(judge(s, undefined, absoluteAt - 1).sso).toBe('alive');
    expect(judge(s, undefined, absoluteAt).sso).toBe('dead');
  });

  it('is dead long after its deadline, and alive at its first instant', () => {
    expect(judge(session(), undefined, T0).sso).toBe('alive');
    expect(judge(session(), undefined, T0 + 365 * 86_400_000).sso).toBe('dead');
  });

  it('returns the session it judged and the instant it judged at', () => {
    const s = session();
    const check = judge(s, undefined, T0 + 1);
    expect(check.now).toBe(T0 + 1);
    expect(check.session).toBe(s);
    expect(check).not.toHaveProperty('rp');
  });
});

describe('judge: the RP session', () => {
  it('is missing for a client the session never signed in to, while the SSO session is judged alone', () => {
    const check = judge(session({ rps: { app: rp() } }), 'other', T0);
    expect(check).toMatchObject({ sso: 'alive', rp: 'missing' });
    expect(check.deadlines).toEqual({ idleAt: T0 + 30 * MIN, absoluteAt: T0 + 8 * 3600_000 });
  });

  it('is alive 1 ms before its own idle deadline and dead at it, while the SSO session lives', () => {
    const s = session({ rps: { app: rp({ lastActiveAt: T0 + 2 * MIN }) } });
    const idleAt = T0 + 2 * MIN + 10 * MIN;
    expect(judge(s, 'app', idleAt - 1)).toMatchObject({ sso: 'alive', rp: 'alive' });
    expect(judge(s, 'app', idleAt)).toMatchObject({ sso: 'alive', rp: 'dead', deadlines: { idleAt } });
  });

  it('is alive 1 ms before its own absolute deadline and dead at it', () => {
    const absoluteAt = T0 + 3600_000;
    const s = session({ lastActiveAt: absoluteAt - MIN, rps: { app: rp({ lastActiveAt: absoluteAt - MIN }) } });
    expect(judge(s, 'app', absoluteAt - 1).rp).toBe('alive');
    expect(judge(s, 'app', absoluteAt)).toMatchObject({ sso: 'alive', rp: 'dead', deadlines: { absoluteAt } });
  });

  it('never outlives the SSO session: looser RP limits are capped by the SSO deadlines', () => {
    const loose = rp({ idleSeconds: 86_400, absoluteSeconds: 86_400 });
    const s = session({ rps: { app: loose } });
    const ssoIdleAt = T0 + 30 * MIN;
    expect(judge(s, 'app', ssoIdleAt - 1)).toMatchObject({ sso: 'alive', rp: 'alive', deadlines: { idleAt: ssoIdleAt } });
    expect(judge(s, 'app', ssoIdleAt)).toMatchObject({ sso: 'dead', rp: 'dead' });
  });

  it('is dead once ended, even before any deadline (the tombstone), while the SSO session lives', () => {
    const s = session({ rps: { app: rp({ endedAt: T0 + 1 }) } });
    expect(judge(s, 'app', T0 + 2)).toMatchObject({ sso: 'alive', rp: 'dead' });
  });
});

describe('nextDeadline', () => {
  it('is the SSO deadline when no RP session ends sooner', () => {
    expect(nextDeadline(session())).toBe(T0 + 30 * MIN);
    expect(nextDeadline(session({ absoluteSeconds: 10 * 60 }))).toBe(T0 + 10 * MIN);
  });

  it('is the first deadline of a live RP session when that comes first', () => {
    const s = session({ rps: { a: rp({ idleSeconds: 20 * 60 }), b: rp({ client: 'b', lastActiveAt: T0 - 5 * MIN }) } });
    expect(nextDeadline(s)).toBe(T0 + 5 * MIN);
  });

  it('ignores ended RP sessions', () => {
    const s = session({ rps: { a: rp({ idleSeconds: 60, endedAt: T0 }) } });
    expect(nextDeadline(s)).toBe(T0 + 30 * MIN);
  });
});

describe('touched', () => {
  it('moves the SSO session\'s and the named live RP session\'s activity to now, leaving the input as it was', () => {
    const s = session({ rps: { app: rp(), other: rp({ client: 'other' }) } });
    const now = T0 + 9 * MIN;
    const next = touched(s, 'app', now);
    expect(next.lastActiveAt).toBe(now);
    expect(next.rps.app?.lastActiveAt).toBe(now);
    expect(next.rps.other?.lastActiveAt).toBe(T0);
    expect(s.lastActiveAt).toBe(T0);
    expect(s.rps.app?.lastActiveAt).toBe(T0);
  });

  it('moves only the SSO session when no client is named, or the named one is dead', () => {
    const s = session({ rps: { app: rp({ endedAt: T0 }) } });
    expect(touched(s, undefined, T0 + MIN).rps.app?.lastActiveAt).toBe(T0);
    const next = touched(s, 'app', T0 + MIN);
    expect(next.lastActiveAt).toBe(T0 + MIN);
    expect(next.rps.app?.lastActiveAt).toBe(T0);
  });

  it('revives nothing: a session dead at its deadline is returned unchanged', () => {
    const s = session();
    expect(touched(s, undefined, T0 + 30 * MIN)).toBe(s);
    expect(touched(s, undefined, T0 + 30 * MIN - 1).lastActiveAt).toBe(T0 + 30 * MIN - 1);
  });
});
