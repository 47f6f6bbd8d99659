import type { KoaContextWithOIDC } from 'oidc-provider';
import type { SessionService } from '../../sessions/service.ts';
import { enforcementState } from './request-state.ts';

// The first code for a client in an SSO session starts its RP session, with the sid the ID token
// carries (SPEC §6); a client whose RP session judge-sso-session found alive costs no extra round trip.
export function recordRpSession({ sessions }: { sessions: SessionService }) {
  return async (ctx: KoaContextWithOIDC): Promise<void> => {
    const { oidc } = ctx;
    const session = oidc.session;
    const { codeIssued: issued, rpAlive: known } = enforcementState(ctx);
    if (!issued || !session?.accountId) return;
    if (!oidc.result?.login && known?.sessionUid === issued.sessionUid && known.clientId === issued.clientId) return;
    await sessions.recordRp({
      uid: issued.sessionUid,
      client: issued.clientId,
      sid: issued.sid ?? session.sidFor(issued.clientId) ?? '',
      ...(issued.grantId ? { grantId: issued.grantId } : {}),
    });
  };
}
