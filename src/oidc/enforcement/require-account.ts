import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';

const { Check } = interactionPolicy;

export const ACCOUNT_UNAVAILABLE = 'account_unavailable';

// A browser session whose user was disabled or deleted since it signed in has no account: the user
// signs in again (and is refused while still disabled). Prompts login; prompt=none gets login_required.
export function requireAccount() {
  return new Check(ACCOUNT_UNAVAILABLE, 'the signed-in account is no longer available', 'login_required', (ctx: KoaContextWithOIDC) =>
    ctx.oidc.session?.accountId && !ctx.oidc.account ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
  );
}
