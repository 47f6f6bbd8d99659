import { z } from 'zod';
import type { ClientSecrets } from './client-secret.ts';
import type { ClientRecord } from './types.ts';

/** Redirect URIs: absolute, no fragment (RFC 6749 §3.1.2). http only where the RP says so. */
const redirectUri = z.url({ protocol: /^https?$/ }).refine((u) => !u.includes('#'), 'must not contain a fragment');

const clientId = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 letters, digits, dot, underscore or dash');

/** A client's settable fields, as sent: no defaults, so a field not sent is not there. */
const clientFields = {
  client_secret: z.string().min(16, 'must be at least 16 characters').max(512),
  redirect_uris: z.array(redirectUri).min(1, 'must list at least one redirect URI'),
  post_logout_redirect_uris: z.array(redirectUri),
  backchannel_logout_uri: z.url({ protocol: /^https?$/ }),
  backchannel_logout_session_required: z.boolean(),
  adminApi: z.boolean(),
  firstParty: z.boolean(),
  id_token_signed_response_alg: z.enum(['RS256', 'ES256']),
};

/** A new client (API create, seed): what is not sent gets its default — defaults belong to creation. */
export const clientInputSchema = z
  .object({
    client_id: clientId,
    ...clientFields,
    client_secret: clientFields.client_secret.optional(),
    post_logout_redirect_uris: clientFields.post_logout_redirect_uris.default([]),
    backchannel_logout_uri: clientFields.backchannel_logout_uri.optional(),
    backchannel_logout_session_required: clientFields.backchannel_logout_session_required.default(true),
    adminApi: clientFields.adminApi.default(false),
    firstParty: clientFields.firstParty.default(true),
    id_token_signed_response_alg: clientFields.id_token_signed_response_alg.default('RS256'),
  })
  .strict();

/**
 * A change to an existing client (PATCH): only the keys sent, never a default — zod's
 * `.partial()` keeps `.default()`, which silently reset every omitted field (issue 10 item 7).
 */
export const clientChangesSchema = z.object(clientFields).partial().strict();

export type ClientInput = z.infer<typeof clientInputSchema>;

/**
 * The stored client for validated input: confidential with a secret (client_secret_basic),
 * public without one (PKCE only); client credentials only for admin API clients. The secret is
 * stored only as its keyed hash; input without one keeps `previous`'s (an update).
 */
export function clientRecord(input: ClientInput, org: string, createdAt: string, secrets: ClientSecrets, previous?: ClientRecord): ClientRecord {
  const { client_secret: secret, ...rest } = input;
  const secretHash = secret !== undefined ? secrets.seal(secret) : previous?.client_secret_hash;
  return {
    ...rest,
    ...(secretHash !== undefined ? { client_secret_hash: secretHash } : {}),
    org,
    token_endpoint_auth_method: secretHash !== undefined ? 'client_secret_basic' : 'none',
    grant_types: input.adminApi ? ['authorization_code', 'refresh_token', 'client_credentials'] : ['authorization_code', 'refresh_token'],
    createdAt,
  };
}
