import type { KoaContextWithOIDC } from 'oidc-provider';
import type { SessionService } from '../../sessions/service.ts';

// SPEC §9: an RP-initiated logout ends what the user chose to end — the SSO session and all its RP
// sessions on "sign me out", only the asking client's RP session on "stay signed in" — so each RP hears of it.
export function recordLogout({ sessions }: { sessions: SessionService }) {
  return async (ctx: KoaContextWithOIDC): Promise<void> => {
    const { oidc } = ctx;
    const session = oidc.session;
    if (!session?.uid) return;
    if (oidc.params?.logout) {
      await sessions.end(session.uid, 'logout');
      return;
    }
    // The library dropped the asking client's authorization; the RP sessions it held end here.
    const current = await sessions.get(session.uid);
    for (const rp of Object.values(current?.rps ?? {})) {
      if (rp.endedAt === undefined && !session.authorizations?.[rp.client]) await sessions.endRp(session.uid, rp.client, 'logout');
    }
  };
}
