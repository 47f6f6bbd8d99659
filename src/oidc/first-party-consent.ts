import type { KoaContextWithOIDC } from 'oidc-provider';

type Grant = InstanceType<KoaContextWithOIDC['oidc']['provider']['Grant']>;

/** The grant the request continues: the consent it just finished with, else the one the browser session holds. */
function existingGrantId(ctx: KoaContextWithOIDC): string | undefined {
  const { oidc } = ctx;
  const client = oidc.client;
  return oidc.result?.consent?.grantId ?? (client ? oidc.session?.grantIdFor(client.clientId) : undefined);
}

// Keyed by the request itself: nothing outlives it, nothing is shared between requests.
const readAhead = new WeakMap<object, { grantId: string; grant: Promise<Grant | undefined> }>();

/**
 * The library loads an authorization request's account and then its grant, one round trip after
 * the other; both are known once the session and client are. Called as the account is loaded
 * (provider.ts, findAccount), this starts reading the grant at once, beside it, for
 * `autoConsentFirstParty` to take. Only authorization requests (and their resumption) read it.
 */
export function readGrantAhead(ctx: KoaContextWithOIDC | undefined): void {
  const route = ctx?.oidc?.route;
  if (!ctx || (route !== 'authorization' && route !== 'resume')) return;
  const grantId = existingGrantId(ctx);
  if (!grantId || readAhead.get(ctx)?.grantId === grantId) return;
  const grant = ctx.oidc.provider.Grant.find(grantId);
  // Taken by autoConsentFirstParty; a request that fails before that leaves no unhandled rejection.
  grant.catch(() => {});
  readAhead.set(ctx, { grantId, grant });
}

/** The grant read ahead for this request, if it is `grantId`'s; once: a later load reads again. */
function takeGrantReadAhead(ctx: KoaContextWithOIDC, grantId: string): Promise<Grant | undefined> | undefined {
  const ahead = readAhead.get(ctx);
  if (!ahead || ahead.grantId !== grantId) return undefined;
  readAhead.delete(ctx);
  return ahead.grant;
}

/**
 * First-party clients (an org's own apps, the default) are consented by the org when it
 * registers them, so users are never asked; third-party clients get the consent prompt.
 */
export async function autoConsentFirstParty(ctx: KoaContextWithOIDC) {
  const { oidc } = ctx;
  const client = oidc.client!;
  const grantId = existingGrantId(ctx);
  if (grantId) {
    const grant = await (takeGrantReadAhead(ctx, grantId) ?? oidc.provider.Grant.find(grantId));
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
