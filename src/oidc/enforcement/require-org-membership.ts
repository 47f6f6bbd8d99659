import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';

const { Check } = interactionPolicy;

export const ORG_MISMATCH = 'org_mismatch';

// SPEC §3: a user signs in only to clients of their own org. A browser signed in to another org's
// account gets access_denied — at once with prompt=none, otherwise once the interaction page sees this reason.
export function requireOrgMembership() {
  return new Check(ORG_MISMATCH, 'the signed-in user belongs to another organization', 'access_denied', async (ctx: KoaContextWithOIDC) => {
    const { account, client } = ctx.oidc;
    if (!account || !client) return Check.NO_NEED_TO_PROMPT;
    const { org } = await account.claims('id_token', 'profile', {}, []);
    return org === client.org ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
  });
}
