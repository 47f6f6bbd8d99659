import type { Policy } from '../sessions/policy-types.ts';

/** A tenant: its users, its clients, its session policy. */
export interface Org {
  id: string;
  name: string;
  policy: Policy;
}

/** A person who signs in. `id` is the OIDC `sub`; `username` is unique within the org. */
export interface User {
  id: string;
  org: string;
  username: string;
  /** argon2id PHC string; never logged, never returned by an API. */
  passwordHash: string;
  roles: string[];
  disabled: boolean;
  createdAt: string;
}

/** A relying party of one org, in OIDC dynamic-registration metadata names. */
export interface ClientRecord {
  client_id: string;
  org: string;
  /** The secret's keyed hash (src/orgs/client-secret.ts); absent for public clients. Never returned by an API. */
  client_secret_hash?: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  backchannel_logout_uri?: string;
  backchannel_logout_session_required: boolean;
  /** May obtain `admin`-scoped tokens for the org's admin API with client credentials. */
  adminApi: boolean;
  /** First-party apps are consented implicitly; third-party ones ask the user. */
  firstParty: boolean;
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post' | 'none';
  grant_types: string[];
  id_token_signed_response_alg: 'RS256' | 'ES256';
  createdAt: string;
}

/**
 * What remains of a deleted client, forever: its id is never given out again (another org
 * would receive the logout tokens owed to the old one's users), and deliveries queued for
 * its sessions still reach the URI it had, for its own org only.
 */
export interface ClientTombstone {
  client_id: string;
  org: string;
  backchannel_logout_uri?: string;
  id_token_signed_response_alg: ClientRecord['id_token_signed_response_alg'];
  deletedAt: string;
}
