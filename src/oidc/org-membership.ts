import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';

const { Check } = interactionPolicy;

export const ORG_MISMATCH = 'org_mismatch';

/**
 * A session whose user was disabled or deleted since it signed in has no account: the user
 * must sign in again (and will be refused if still disabled).
 */
export const accountAvailableCheck = new Check(
  'account_unavailable',
  'the signed-in account is no longer available',
  'login_required',
  (ctx: KoaContextWithOIDC) =>
    ctx.oidc.session?.accountId && !ctx.oidc.account ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
);

/**
 * SPEC §3: a user signs in only to clients of their own org. A browser signed in to another
 * org's account gets `access_denied` — with prompt=none directly, otherwise once the
 * interaction page sees this reason.
 */
export const orgMembershipCheck = new Check(
  ORG_MISMATCH,
  'the signed-in user belongs to another organization',
  'access_denied',
  async (ctx: KoaContextWithOIDC) => {
    const { account, client } = ctx.oidc;
    if (!account || !client) return Check.NO_NEED_TO_PROMPT;
    const { org } = await account.claims('id_token', 'profile', {}, []);
    return org === client.org ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
  },
);
