import { expiresAt, isAlive, rpDeadlines, ssoDeadlines, type EpochMs } from './deadlines.ts';
import type { Liveness, SessionCheck, SsoSession } from './types.ts';

const ssoTimes = (s: SsoSession) => ({
  signedInAt: s.signedInAt,
  lastActiveAt: s.lastActiveAt,
  idleSeconds: s.idleSeconds,
  absoluteSeconds: s.absoluteSeconds,
});

/**
 * Judges a session at `now`: the SSO session, and the client's RP session when one is named.
 * Pure; the memory store uses it as is and the Redis store's Lua scripts mirror it (the shared
 * store contract suite checks both at the same boundaries).
 */
export function judge(session: SsoSession | undefined, client: string | undefined, now: EpochMs): SessionCheck {
  if (!session) return client === undefined ? { now, sso: 'missing' } : { now, sso: 'missing', rp: 'missing' };
  const sso = ssoDeadlines(ssoTimes(session));
  const ssoLive: Liveness = isAlive(sso, now) ? 'alive' : 'dead';
  if (client === undefined) return { now, sso: ssoLive, session, deadlines: sso };
  const rp = session.rps[client];
  if (!rp) return { now, sso: ssoLive, rp: 'missing', session, deadlines: sso };
  const deadlines = rpDeadlines(ssoTimes(session), rp);
  const rpLive = rp.endedAt === undefined && isAlive(deadlines, now);
  return { now, sso: ssoLive, rp: rpLive ? 'alive' : 'dead', session, deadlines };
}

/**
 * When the sweeper must look at the session next: its SSO deadline or the first deadline of a
 * live RP session, whichever comes first (mirrored by the Redis scripts' next_deadline).
 */
export function nextDeadline(session: SsoSession): EpochMs {
  let next = expiresAt(ssoDeadlines(ssoTimes(session)));
  for (const rp of Object.values(session.rps)) {
    if (rp.endedAt === undefined) next = Math.min(next, rp.lastActiveAt + rp.idleSeconds * 1000, rp.startedAt + rp.absoluteSeconds * 1000);
  }
  return next;
}

/** An active signal: moves lastActiveAt of the live SSO session and, if named and live, the RP's. */
export function touched(session: SsoSession, client: string | undefined, now: EpochMs): SsoSession {
  const check = judge(session, client, now);
  if (check.sso !== 'alive') return session;
  const next: SsoSession = { ...session, lastActiveAt: now, rps: { ...session.rps } };
  if (client !== undefined && check.rp === 'alive') next.rps[client] = { ...session.rps[client]!, lastActiveAt: now };
  return next;
}
