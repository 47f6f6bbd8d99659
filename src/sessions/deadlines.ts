/**
 * Deadline math of SPEC §3, in epoch milliseconds. A session is alive while `now < deadline`
 * and dead from `now == deadline` on. Pure: the clock is an argument.
 */

export type EpochMs = number;

export interface SsoTimes {
  signedInAt: EpochMs;
  lastActiveAt: EpochMs;
  idleSeconds: number;
  absoluteSeconds: number;
}

export interface RpTimes {
  startedAt: EpochMs;
  lastActiveAt: EpochMs;
  idleSeconds: number;
  absoluteSeconds: number;
}

export interface Deadlines {
  idleAt: EpochMs;
  absoluteAt: EpochMs;
}

export type DeadlineKind = 'idle' | 'absolute';

export function ssoDeadlines(s: SsoTimes): Deadlines {
  return { idleAt: s.lastActiveAt + s.idleSeconds * 1000, absoluteAt: s.signedInAt + s.absoluteSeconds * 1000 };
}

/** An RP session never outlives its SSO session: each of its deadlines is capped by the SSO's. */
export function rpDeadlines(sso: SsoTimes, rp: RpTimes): Deadlines {
  const outer = ssoDeadlines(sso);
  return {
    idleAt: Math.min(outer.idleAt, rp.lastActiveAt + rp.idleSeconds * 1000),
    absoluteAt: Math.min(outer.absoluteAt, rp.startedAt + rp.absoluteSeconds * 1000),
  };
}

/** The first deadline to pass. */
export const expiresAt = (d: Deadlines): EpochMs => Math.min(d.idleAt, d.absoluteAt);

export const isAlive = (d: Deadlines, now: EpochMs): boolean => now < expiresAt(d);

/**
 * Why a dead session died: the deadline that passed first. When both fall at the same instant
 * the absolute limit is named, since no activity could have prevented it.
 */
export function deathCause(d: Deadlines, now: EpochMs): DeadlineKind | undefined {
  if (now < expiresAt(d)) return undefined;
  return d.absoluteAt <= d.idleAt ? 'absolute' : 'idle';
}

/** When the user should be warned: `warningSeconds` before the session's end, never before it began. */
export const warningAt = (d: Deadlines, warningSeconds: number): EpochMs => expiresAt(d) - warningSeconds * 1000;
