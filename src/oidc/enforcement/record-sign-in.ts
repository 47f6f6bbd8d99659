import type { KoaContextWithOIDC } from 'oidc-provider';
import type { SessionService } from '../../sessions/service.ts';
import type { DirectoryStore } from '../../store/types.ts';
import { enforcementState } from './request-state.ts';

// A finished sign-in starts (or, on step-up, continues) the SSO session with the org's limits
// (SPEC §3), before the code leaves — so the RP can never redeem a code for a session Curfew does not know.
export function recordSignIn({ sessions, directory }: { sessions: SessionService; directory: DirectoryStore }) {
  return async (ctx: KoaContextWithOIDC): Promise<void> => {
    const { oidc } = ctx;
    const session = oidc.session;
    const issued = enforcementState(ctx).codeIssued;
    if (!issued || !session?.accountId || !oidc.result?.login) return;
    const user = await directory.getUser(session.accountId);
    const org = user ? await directory.getOrg(user.org) : undefined;
    if (!user || !org) throw new Error('signed-in user or org vanished during sign-in');
    await sessions.recordLogin({ uid: session.uid, user, org, ip: ctx.ip, client: issued.clientId });
  };
}
