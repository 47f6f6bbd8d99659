import type { EndListener } from '../sessions/service.ts';
import type { DirectoryStore } from '../orgs/store.ts';
import type { MfaService } from './service.ts';

/** Ends that Curfew imposed on the user; a logout is the user's own choice and asks nothing. */
const IMPOSED = new Set(['idle', 'absolute', 'admin', 'policy', 'user_disabled']);

/**
 * SPEC §8: after a timeout or revocation the account must pass TOTP at its next sign-in, on
 * any device — every client after an SSO end, that client only after an RP session's end.
 * Idempotent (a requirement is a set member), as an outbox listener must be.
 */
export function stepUpAfterTimeouts(directory: Pick<DirectoryStore, 'getOrg'>, mfa: MfaService): EndListener {
  return async ({ reason, scope, session, rps }) => {
    if (!IMPOSED.has(reason)) return;
    const org = await directory.getOrg(session.org);
    if (!org || org.policy.mfa === 'off') return;
    if (scope === 'sso') await mfa.requireStepUp(session.user, '*');
    else for (const rp of rps) await mfa.requireStepUp(session.user, rp.client);
  };
}
