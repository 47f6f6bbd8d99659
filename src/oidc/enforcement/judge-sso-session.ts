import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { SessionService } from '../../sessions/service.ts';
import { forgetLogin } from '../provider-patches.ts';
import { enforcementState } from './request-state.ts';

const { Check } = interactionPolicy;

export const SESSION_ENDED = 'session_ended';

// SPEC §6 at the authorization endpoint: a dead SSO session is no session (sign in again; prompt=none
// gets login_required), a dead RP session re-signs that client only. Interactive is active (SPEC §5).
export function judgeSsoSession({ sessions }: { sessions: SessionService }) {
  return new Check(SESSION_ENDED, 'the session has ended', 'login_required', async (ctx: KoaContextWithOIDC) => {
    const { oidc } = ctx;
    const session = oidc.session;
    // A sign-in that just finished is recorded after the response is built (record-sign-in).
    if (!session?.accountId || oidc.result?.login || !oidc.client) return Check.NO_NEED_TO_PROMPT;
    const clientId = oidc.client.clientId;
    const activity = oidc.prompts.has('none') ? 'passive' : 'active';
    // The activity is counted while the library goes on building its answer; await-activity-count
    // holds the answer until the count is stored.
    const { check, counted } = await sessions.checkCountingLater(session.uid, clientId, activity, 'authorize');
    enforcementState(ctx).activityCounted = counted;
    if (check.sso !== 'alive') {
      forgetLogin(session);
      return Check.REQUEST_PROMPT;
    }
    if (check.rp === 'alive') enforcementState(ctx).rpAlive = { sessionUid: session.uid, clientId };
    if (check.rp === 'dead') {
      // A new RP session gets a new sid and grant; the old grant was revoked as it ended.
      if (session.authorizations) delete session.authorizations[clientId];
      return Check.REQUEST_PROMPT;
    }
    return Check.NO_NEED_TO_PROMPT;
  });
}
