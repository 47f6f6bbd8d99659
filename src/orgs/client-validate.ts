import { z } from 'zod';
import type { ClientSecrets } from './client-secret.ts';
import type { ClientRecord } from './types.ts';

/** Redirect URIs: absolute, no fragment (RFC 6749 §3.1.2). http only where the RP says so. */
const redirectUri = z.url({ protocol: /^https?$/ }).refine((u) => !u.includes('#'), 'must not contain a fragment');

export const clientInputSchema = z
  .object({
    client_id: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 letters, digits, dot, underscore or dash'),
    client_secret: z.string().min(16, 'must be at least 16 characters').max(512).optional(),
    redirect_uris: z.array(redirectUri).min(1, 'must list at least one redirect URI'),
    post_logout_redirect_uris: z.array(redirectUri).default([]),
    backchannel_logout_uri: z.url({ protocol: /^https?$/ }).optional(),
    backchannel_logout_session_required: z.boolean().default(true),
    adminApi: z.boolean().default(false),
    firstParty: z.boolean().default(true),
    id_token_signed_response_alg: z.enum(['RS256', 'ES256']).default('RS256'),
  })
  .strict();

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
