import type { Context, Next } from 'koa';
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { requestState } from '../http/request-context.ts';
import type { Logger } from '../logger.ts';
import type { SessionService } from '../sessions/service.ts';
import type { DirectoryStore } from '../store/types.ts';

const { Check } = interactionPolicy;

export const SESSION_ENDED = 'session_ended';

type ProviderSession = NonNullable<KoaContextWithOIDC['oidc']['session']>;

/** Forgets the browser's sign-in, so the provider asks for a new one (and prompt=none fails). */
function forgetLogin(session: ProviderSession): void {
  // The library's session proxy refuses an empty accountId but lets it be deleted; assigning
  // authorizations marks the session touched, so the forgetting is saved.
  const fields = session as unknown as Record<string, unknown>;
  for (const field of ['accountId', 'acr', 'amr', 'loginTs']) delete fields[field];
  session.authorizations = {};
}

/**
 * SPEC §6 at the authorization endpoint. A dead or ended SSO session is no session: the browser
 * signs in again (prompt=none answers login_required). A dead RP session forces a fresh sign-in
 * for that client only. An interactive request is an active signal (SPEC §5); prompt=none is not.
 */
export function sessionDeadlineCheck(sessions: SessionService) {
  return new Check(SESSION_ENDED, 'the session has ended', 'login_required', async (ctx: KoaContextWithOIDC) => {
    const { oidc } = ctx;
    const session = oidc.session;
    // A sign-in that just finished is recorded after the response is built (recordSignIns).
    if (!session?.accountId || oidc.result?.login || !oidc.client) return Check.NO_NEED_TO_PROMPT;
    const activity = oidc.prompts.has('none') ? 'passive' : 'active';
    const check = await sessions.check(session.uid, oidc.client.clientId, activity, 'authorize');
    if (check.sso !== 'alive') {
      forgetLogin(session);
      return Check.REQUEST_PROMPT;
    }
    if (check.rp === 'alive') {
      const state = requestState();
      if (state) state.rpAlive = { sessionUid: session.uid, clientId: oidc.client.clientId };
    }
    if (check.rp === 'dead') {
      // A new RP session gets a new sid and grant; the old grant was revoked as it ended.
      if (session.authorizations) delete session.authorizations[oidc.client.clientId];
      return Check.REQUEST_PROMPT;
    }
    return Check.NO_NEED_TO_PROMPT;
  });
}

export interface RecordDeps {
  sessions: SessionService;
  directory: DirectoryStore;
  logger: Logger;
}

/**
 * Runs around the provider's routes and acts once the provider has answered, before the answer
 * leaves: a finished sign-in and the first code for a client start the SSO and RP sessions
 * (so the RP cannot redeem a code for a session Curfew does not know); a refresh counts as
 * activity where the org says so; an RP-initiated logout ends what it ended.
 */
export function recordSessionEvents({ sessions, directory }: RecordDeps) {
  return async function recordSessionEventsMiddleware(ctx: Context, next: Next): Promise<void> {
    await next();
    const oidc = (ctx as unknown as KoaContextWithOIDC).oidc;
    if (!oidc) return;
    switch (oidc.route) {
      case 'authorization':
      case 'resume':
        await recordAuthorization(ctx, oidc);
        break;
      case 'token':
        if (ctx.status === 200 && oidc.params?.grant_type === 'refresh_token') await refreshActivity();
        break;
      case 'end_session_confirm':
        await recordLogout(oidc);
        break;
      default:
    }
  };

  async function recordAuthorization(ctx: Context, oidc: KoaContextWithOIDC['oidc']): Promise<void> {
    const state = requestState();
    const issued = state?.codeIssued;
    const session = oidc.session;
    if (!issued || !session?.accountId) return;
    // The common case — a live RP session asking again — was judged already: no extra round trip.
    const known = state?.rpAlive;
    if (!oidc.result?.login && known?.sessionUid === issued.sessionUid && known.clientId === issued.clientId) return;
    if (oidc.result?.login) {
      const user = await directory.getUser(session.accountId);
      const org = user ? await directory.getOrg(user.org) : undefined;
      if (!user || !org) throw new Error('signed-in user or org vanished during sign-in');
      await sessions.recordLogin({ uid: session.uid, user, org, ip: ctx.ip, client: issued.clientId });
    }
    await sessions.recordRp({
      uid: issued.sessionUid,
      client: issued.clientId,
      sid: issued.sid ?? session.sidFor(issued.clientId) ?? '',
      ...(issued.grantId ? { grantId: issued.grantId } : {}),
    });
  }

  /** The refresh grant already judged the session (passively); count it only where the client's policy says so. */
  async function refreshActivity(): Promise<void> {
    const rp = requestState()?.rpSession;
    if (rp?.refreshIsActivity) await sessions.check(rp.sessionUid, rp.clientId, 'active', 'refresh');
  }

  async function recordLogout(oidc: KoaContextWithOIDC['oidc']): Promise<void> {
    const session = oidc.session;
    if (!session?.uid) return;
    if (oidc.params?.logout) {
      await sessions.end(session.uid, 'logout');
      return;
    }
    // "Stay signed in" on the logout page still ends the requesting client's RP session.
    const current = await sessions.get(session.uid);
    for (const rp of Object.values(current?.rps ?? {})) {
      if (rp.endedAt === undefined && !session.authorizations?.[rp.client]) await sessions.endRp(session.uid, rp.client, 'logout');
    }
  }
}
