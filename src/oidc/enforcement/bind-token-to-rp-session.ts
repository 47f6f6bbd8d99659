import type { Context } from 'koa';
import { expiresAt } from '../../sessions/deadlines.ts';
import type { SessionService } from '../../sessions/service.ts';
import { enforcementState } from './request-state.ts';

/** A code or token the library loaded that names its RP session (SPEC §6: it dies with it). */
export interface SessionBoundToken {
  sessionUid: string;
  clientId: string;
}

// SPEC §6: a code or token is usable only while its RP (and so SSO) session is alive — judged passively,
// since loading a token is never user activity. The RP session found is kept for later steps of the request.
export function bindTokenToRpSession({ sessions }: { sessions: SessionService }) {
  return async (ctx: Context | undefined, { sessionUid, clientId }: SessionBoundToken): Promise<boolean> => {
    const check = await sessions.check(sessionUid, clientId, 'passive');
    if (check.sso !== 'alive' || check.rp !== 'alive' || !check.deadlines) return false;
    if (ctx) {
      // The client's own value (a client rule may override the org's); older records carry only the org's.
      const refreshIsActivity = check.session?.rps[clientId]?.refreshIsActivity ?? check.session?.refreshIsActivity ?? false;
      enforcementState(ctx).rpSession = { sessionUid, clientId, expiresAt: expiresAt(check.deadlines), now: check.now, refreshIsActivity };
    }
    return true;
  };
}
