import { requestState } from '../http/request-context.ts';
import { expiresAt } from '../sessions/deadlines.ts';
import type { SessionService } from '../sessions/service.ts';
import type { SessionBoundCheck } from './adapter.ts';

/**
 * A code or token is usable only while its RP session (and so its SSO session) is alive — a
 * passive check, since loading a token is never user activity. The RP session's end is kept for
 * the access-token TTL, which must not outlive it.
 */
export function sessionBoundCheck(sessions: SessionService): SessionBoundCheck {
  return async ({ sessionUid, clientId }) => {
    const check = await sessions.check(sessionUid, clientId, 'passive');
    if (check.sso !== 'alive' || check.rp !== 'alive' || !check.deadlines) return false;
    const state = requestState();
    if (state) {
      // The client's own value (a client rule may override the org's); older records carry only the org's.
      const refreshIsActivity = check.session?.rps[clientId]?.refreshIsActivity ?? check.session?.refreshIsActivity ?? false;
      state.rpSession = { sessionUid, clientId, expiresAt: expiresAt(check.deadlines), now: check.now, refreshIsActivity };
    }
    return true;
  };
}

/** Access-token lifetime: the configured one, capped by the RP session's remaining life. */
export function accessTokenTtl(configuredSeconds: number): () => number {
  return () => {
    const rp = requestState()?.rpSession;
    if (!rp) return configuredSeconds;
    return Math.max(1, Math.min(configuredSeconds, Math.floor((rp.expiresAt - rp.now) / 1000)));
  };
}
