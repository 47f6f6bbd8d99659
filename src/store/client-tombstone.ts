import type { ClientRecord } from '../orgs/types.ts';
import type { ClientTombstone } from '../orgs/types.ts';

/**
 * One message for every reason an id cannot be had — held by this org, by another, or deleted —
 * so registering a client never tells one org what another holds.
 */
export const CLIENT_ID_UNAVAILABLE = 'client_id is not available';

/** What a deleted client leaves behind (the Redis function client_delete writes the same fields). */
export function tombstoneOf(client: ClientRecord, deletedAt: string): ClientTombstone {
  return {
    client_id: client.client_id,
    org: client.org,
    ...(client.backchannel_logout_uri ? { backchannel_logout_uri: client.backchannel_logout_uri } : {}),
    id_token_signed_response_alg: client.id_token_signed_response_alg,
    deletedAt,
  };
}
