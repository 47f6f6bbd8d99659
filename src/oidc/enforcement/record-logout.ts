import { finished } from 'node:stream/promises';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { SessionService } from '../../sessions/service.ts';

// SPEC §9: an RP-initiated logout ends what the user chose to end — the SSO session and all its RP
// sessions on "sign me out", only the asking client's RP session on "stay signed in" — so each RP hears of it.
// The user is answered once each end is durable (recorded with its outbox entry); its tokens, audit and
// the rest follow at once, or from a worker should this process die (issue 14: end_session at bare + 1).
export function recordLogout({ sessions }: { sessions: SessionService }) {
  return async (ctx: KoaContextWithOIDC): Promise<void> => {
    const { oidc } = ctx;
    const session = oidc.session;
    if (!session?.uid) return;
    // The ends' tokens and audit follow once the answer has left (or the client went away).
    const answered = ctx.res ? finished(ctx.res) : undefined;
    const options = { answer: 'once-durable', ...(answered ? { after: answered } : {}) } as const;
    if (oidc.params?.logout) {
      await sessions.end(session.uid, 'logout', options);
      return;
    }
    // The library dropped the asking client's authorization; the RP sessions it held end here.
    const current = await sessions.get(session.uid);
    for (const rp of Object.values(current?.rps ?? {})) {
      if (rp.endedAt === undefined && !session.authorizations?.[rp.client]) await sessions.endRp(session.uid, rp.client, 'logout', options);
    }
  };
}
