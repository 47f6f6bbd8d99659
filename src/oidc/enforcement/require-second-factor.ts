import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { ACR, acrRequested } from '../../mfa/acr.ts';
import type { MfaService } from '../../mfa/service.ts';
import type { DirectoryStore } from '../../store/types.ts';
import { userInRequest } from '../request-user.ts';

const { Check } = interactionPolicy;

export const MFA_REQUIRED = 'mfa_required';

// SPEC §8 for a browser already signed in: TOTP is due when the RP asks for the MFA acr, when the org's
// mode is `always`, or while a timeout or revocation left a step-up for this client. prompt=none: login_required.
export function requireSecondFactor({ mfa, directory }: { mfa: MfaService; directory: DirectoryStore }) {
  return new Check(MFA_REQUIRED, 'a second factor is required', 'login_required', async (ctx: KoaContextWithOIDC) => {
    const { oidc } = ctx;
    const session = oidc.session;
    // Curfew's own forms just applied these rules to the sign-in that finished.
    if (!session?.accountId || !oidc.client || oidc.result?.login) return Check.NO_NEED_TO_PROMPT;
    const hasMfa = session.acr === ACR.mfa;
    if (!hasMfa && acrRequested(oidc.params as Record<string, unknown>)) return Check.REQUEST_PROMPT;
    // findAccount read it earlier in this request.
    const user = await userInRequest(ctx, session.accountId, (id) => directory.getUser(id));
    if (!user) return Check.NO_NEED_TO_PROMPT;
    const [org, stepUp] = await Promise.all([directory.getOrg(user.org), mfa.stepUpRequired(user.id, oidc.client.clientId)]);
    if (stepUp) return Check.REQUEST_PROMPT;
    return org?.policy.mfa === 'always' && !hasMfa ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
  });
}
