import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * First-party clients (an org's own apps, the default) are consented by the org when it
 * registers them, so users are never asked; third-party clients get the consent prompt.
 */
export async function autoConsentFirstParty(ctx: KoaContextWithOIDC) {
  const { oidc } = ctx;
  const client = oidc.client!;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(client.clientId);
  if (grantId) {
    const grant = await oidc.provider.Grant.find(grantId);
    if (grant || !client.firstParty) return grant;
  }
  if (!client.firstParty) return undefined;

  const grant = new oidc.provider.Grant({ clientId: client.clientId, accountId: oidc.session!.accountId! });
  grant.addOIDCScope(oidc.requestParamScopes ? [...oidc.requestParamScopes].join(' ') : 'openid');
  const claims = oidc.requestParamClaims;
  if (claims?.size) grant.addOIDCClaims([...claims]);
  await grant.save();
  return grant;
}
