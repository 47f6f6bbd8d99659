import { describe, expect, it } from 'vitest';
import { deathCause, expiresAt, isAlive, rpDeadlines, ssoDeadlines, warningAt } from '../../src/sessions/deadlines.ts';

const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);
const sso = { signedInAt: T0, lastActiveAt: T0 + 60_000, idleSeconds: 900, absoluteSeconds: 43200 };

describe('SSO deadlines', () => {
  const d = ssoDeadlines(sso);
  it('idle is last activity + idle, absolute is sign-in + absolute', () => {
    expect(d).toEqual({ idleAt: T0 + 60_000 + 900_000, absoluteAt: T0 + 43_200_000 });
  });
  it('is alive 1 ms before the idle deadline and dead at it', () => {
    expect(isAlive(d, d.idleAt - 1)).toBe(true);
    expect(isAlive(d, d.idleAt)).toBe(false);
    expect(deathCause(d, d.idleAt - 1)).toBeUndefined();
    expect(deathCause(d, d.idleAt)).toBe('idle');
  });
  it('is dead at the absolute deadline however recent the activity', () => {
    const busy = ssoDeadlines({ ...sso, lastActiveAt: T0 + 43_199_000 });
    expect(isAlive(busy, busy.absoluteAt - 1)).toBe(true);
    expect(isAlive(busy, busy.absoluteAt)).toBe(false);
    expect(deathCause(busy, busy.absoluteAt)).toBe('absolute');
  });
  it('names absolute when both deadlines fall at the same instant', () => {
    const tie = ssoDeadlines({ signedInAt: T0, lastActiveAt: T0, idleSeconds: 600, absoluteSeconds: 600 });
    expect(deathCause(tie, T0 + 600_000)).toBe('absolute');
  });
  it('warns warningSeconds before the first deadline', () => {
    expect(warningAt(d, 120)).toBe(expiresAt(d) - 120_000);
  });
});

describe('RP deadlines', () => {
  const rp = { startedAt: T0 + 120_000, lastActiveAt: T0 + 120_000, idleSeconds: 300, absoluteSeconds: 3600 };
  it('are the RP\'s own when stricter', () => {
    expect(rpDeadlines(sso, rp)).toEqual({ idleAt: T0 + 120_000 + 300_000, absoluteAt: T0 + 120_000 + 3_600_000 });
  });
  it('never outlive the SSO session', () => {
    const loose = { ...rp, lastActiveAt: T0 + 5_000_000, idleSeconds: 900, absoluteSeconds: 86_400 };
    const d = rpDeadlines(sso, loose);
    expect(d.idleAt).toBe(ssoDeadlines(sso).idleAt);
    expect(d.absoluteAt).toBe(ssoDeadlines(sso).absoluteAt);
  });
  it('is alive 1 ms before and dead at each boundary', () => {
    const d = rpDeadlines(sso, rp);
    expect(isAlive(d, d.idleAt - 1)).toBe(true);
    expect(isAlive(d, d.idleAt)).toBe(false);
    const active = rpDeadlines({ ...sso, lastActiveAt: T0 + 3_000_000 }, { ...rp, lastActiveAt: T0 + 3_600_000 });
    expect(deathCause(active, active.absoluteAt - 1)).toBeUndefined();
    expect(deathCause(active, active.absoluteAt)).toBe('absolute');
  });
});
