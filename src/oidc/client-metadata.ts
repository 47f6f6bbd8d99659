import type { ClientRecord } from '../orgs/types.ts';

/**
 * The metadata oidc-provider validates for a Curfew client. `org`, `firstParty` and `adminApi`
 * are Curfew's own properties (registered as extraClientMetadata).
 */
export function providerMetadata(client: ClientRecord): Record<string, unknown> {
  const metadata: Record<string, unknown> = {
    client_id: client.client_id,
    redirect_uris: client.redirect_uris,
    post_logout_redirect_uris: client.post_logout_redirect_uris,
    grant_types: client.grant_types,
    response_types: client.grant_types.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: client.token_endpoint_auth_method,
    id_token_signed_response_alg: client.id_token_signed_response_alg,
    scope: client.adminApi ? 'openid profile admin' : 'openid profile',
    org: client.org,
    firstParty: client.firstParty,
    adminApi: client.adminApi,
  };
  // The provider holds only the hash; its compareClientSecret is replaced to check against it.
  if (client.client_secret_hash !== undefined) metadata.client_secret = client.client_secret_hash;
  if (client.backchannel_logout_uri) {
    metadata.backchannel_logout_uri = client.backchannel_logout_uri;
    metadata.backchannel_logout_session_required = client.backchannel_logout_session_required;
  }
  return metadata;
}
