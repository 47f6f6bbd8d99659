import { randomBytes } from 'node:crypto';
import type { ClientRecord } from '../../orgs/types.ts';
import type { ClientSecrets } from '../../orgs/client-secret.ts';
import type { IdentifierHasher } from '../../crypto/identifier-hash.ts';
import type { DirectoryStore } from '../../store/types.ts';

/** Each org's console is a client of that org, so its admins sign in as to any of its apps. */
export const consoleClientId = (org: string) => `curfew-console-${org}`;

export const isConsoleClient = (clientId: string) => clientId.startsWith('curfew-console-');

/** Derived, so every instance knows it without reading it back; never shown anywhere. */
export const consoleClientSecret = (hash: IdentifierHasher, clientId: string) => hash(`console-secret:${clientId}`);

/**
 * Registers (or refreshes) the console client of every org: code flow at /admin/callback,
 * back-channel logout at /admin/backchannel-logout on Curfew's own origin.
 */
export async function ensureConsoleClients(directory: DirectoryStore, issuer: string, hash: IdentifierHasher, secrets: ClientSecrets): Promise<void> {
  for (const org of await directory.listOrgs()) {
    const clientId = consoleClientId(org.id);
    const existing = await directory.getClient(clientId);
    await directory.putClient(consoleClientRecord(clientId, org.id, issuer, secrets.seal(consoleClientSecret(hash, clientId)), existing?.createdAt ?? new Date().toISOString()));
  }
}

/** No org can have this id (org ids start with a letter or digit): nobody signs in to it. */
const NO_ORG = '_';
const decoySecret = randomBytes(32).toString('base64url');

/**
 * What the provider finds for the console client of an org that does not exist: a client like
 * every console client, in an org nobody belongs to. `/admin/login?org=…` then answers the same
 * for any name — the sign-in page — and fails afterwards with the generic "Invalid username or
 * password.", so the picker does not tell which orgs exist (issue 12 item 2).
 */
export function decoyConsoleClient(clientId: string, issuer: string): ClientRecord | undefined {
  if (!isConsoleClient(clientId) || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(clientId.slice('curfew-console-'.length))) return undefined;
  return consoleClientRecord(clientId, NO_ORG, issuer, decoySecret, new Date(0).toISOString());
}

/** Every console client's registration; the decoy uses it too, so it cannot differ from a real one. */
function consoleClientRecord(clientId: string, org: string, issuer: string, secretHash: string, createdAt: string): ClientRecord {
  return {
    client_id: clientId,
    org,
    client_secret_hash: secretHash,
    redirect_uris: [`${issuer}/admin/callback`],
    post_logout_redirect_uris: [`${issuer}/admin`],
    backchannel_logout_uri: `${issuer}/admin/backchannel-logout`,
    backchannel_logout_session_required: true,
    adminApi: false,
    firstParty: true,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code'],
    id_token_signed_response_alg: 'RS256',
    createdAt,
  };
}
