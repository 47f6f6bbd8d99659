import type { Context } from 'koa';
import type { SessionService } from '../../sessions/service.ts';
import { enforcementState } from './request-state.ts';

// SPEC §5: a refresh is the user's activity only where the client's policy says so (refreshIsActivity);
// the grant already judged the session passively (bind-token-to-rp-session), so only a success counts.
export function refreshActivity({ sessions }: { sessions: SessionService }) {
  return async (ctx: Context): Promise<void> => {
    const rp = enforcementState(ctx).rpSession;
    if (ctx.status === 200 && rp?.refreshIsActivity) await sessions.check(rp.sessionUid, rp.clientId, 'active', 'refresh');
  };
}
