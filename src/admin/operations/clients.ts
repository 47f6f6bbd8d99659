import { randomBytes } from 'node:crypto';
import { CurfewError, ValidationError } from '../../errors.ts';
import { clientRecord } from '../../orgs/client-validate.ts';
import { deleteClient as removeClient } from './delete-client.ts';
import { CLIENT_ID_UNAVAILABLE } from '../../store/client-tombstone.ts';
import { ConflictError } from '../../store/types.ts';
import { INTERNAL_CLIENT_PREFIXES, isInternalClient } from '../../orgs/internal-clients.ts';
import { clientCreateSchema, clientPatchSchema } from '../schemas.ts';
import type { AdminActor } from './actions.ts';
import { checkBackchannel, clientOf, editable, notFound, recordWrite, requireOrg, type OperationDeps } from './context.ts';
import { parse } from './parse.ts';
import { publicClient, type PublicClient } from './views.ts';

/** 256 bits from the CSPRNG, base64url: far above the 16-character minimum of a chosen secret. */
export const generateClientSecret = () => randomBytes(32).toString('base64url');

/**
 * Registers a client. With `generateSecret` (and no `client_secret` sent) it becomes
 * confidential with a generated secret, returned here once; only its hash is stored.
 */
export async function createClient(deps: OperationDeps, by: AdminActor, input: unknown, options: { generateSecret?: boolean } = {}): Promise<{ client: PublicClient; client_secret?: string }> {
  await requireOrg(deps, by);
  const fields = parse(clientCreateSchema, input);
  if (isInternalClient(fields.client_id)) throw new ValidationError([{ field: 'client_id', message: `the prefixes ${INTERNAL_CLIENT_PREFIXES.join(' and ')} are reserved for Curfew's own clients` }]);
  checkBackchannel(deps, fields.backchannel_logout_uri);
  const generated = options.generateSecret && fields.client_secret === undefined ? generateClientSecret() : undefined;
  const record = clientRecord({ ...fields, ...(generated ? { client_secret: generated } : {}) }, by.org, new Date().toISOString(), deps.clientSecrets);
  try {
    // One atomic step, one answer: whether this org, another org or a deleted client holds
    // the id is nobody's business but the holder's (issue 10 item 8).
    await deps.store.directory.createClient(record);
  } catch (err) {
    if (err instanceof ConflictError) throw new CurfewError('conflict', CLIENT_ID_UNAVAILABLE);
    throw err;
  }
  await recordWrite(deps, by, { action: 'client.create', target: record.client_id, after: publicClient(record) });
  return { client: publicClient(record), ...(generated ? { client_secret: generated } : {}) };
}

/**
 * Changes only the fields sent; never the console's own client. Applied to the record as stored
 * in one compare-and-set (DirectoryStore.updateClient), so it never undoes a concurrent change
 * (a secret rotation) and never brings back a client deleted meanwhile.
 */
export async function updateClient(deps: OperationDeps, by: AdminActor, clientId: string, input: unknown): Promise<PublicClient> {
  await requireOrg(deps, by);
  const found = editable(await clientOf(deps, by, clientId));
  const patch = parse(clientPatchSchema, input);
  checkBackchannel(deps, patch.backchannel_logout_uri);
  let before = found;
  const after = await deps.store.directory.updateClient(found.client_id, (stored) => {
    before = structuredClone(stored);
    const { org: _org, token_endpoint_auth_method: _m, grant_types: _g, createdAt, ...current } = stored;
    return clientRecord({ ...current, ...patch }, stored.org, createdAt, deps.clientSecrets, stored);
  });
  // Deleted since it was read: a change never brings a client back.
  if (!after) throw notFound('client');
  await recordWrite(deps, by, { action: 'client.update', target: before.client_id, before: publicClient(before), after: publicClient(after) });
  return publicClient(after);
}

/**
 * Replaces a client's secret with a generated one, returned once; the old secret stops working
 * at once, even against a concurrent change of the client (one compare-and-set). A public client
 * becomes confidential. Neither secret is audited or logged.
 */
export async function rotateClientSecret(deps: OperationDeps, by: AdminActor, clientId: string): Promise<{ client: PublicClient; client_secret: string }> {
  await requireOrg(deps, by);
  const found = editable(await clientOf(deps, by, clientId));
  const secret = generateClientSecret();
  let before = found;
  const after = await deps.store.directory.updateClient(found.client_id, (stored) => {
    before = structuredClone(stored);
    const { org: _org, token_endpoint_auth_method: _m, grant_types: _g, createdAt, client_secret_hash: _h, ...current } = stored;
    return clientRecord({ ...current, client_secret: secret }, stored.org, createdAt, deps.clientSecrets, stored);
  });
  if (!after) throw notFound('client');
  await recordWrite(deps, by, { action: 'client.secret.rotate', target: before.client_id, before: { hasSecret: before.client_secret_hash !== undefined }, after: { hasSecret: true } });
  return { client: publicClient(after), client_secret: secret };
}

/** Deletes a client for good; its RP sessions end (reason `client_deleted`) and are announced. */
export async function deleteClient(deps: OperationDeps, by: AdminActor, clientId: string): Promise<{ deleted: PublicClient; endedRpSessions: number }> {
  await requireOrg(deps, by);
  const before = editable(await clientOf(deps, by, clientId));
  const result = await removeClient({ directory: deps.store.directory, sessions: deps.sessions }, before);
  if (!result) throw notFound('client');
  await recordWrite(deps, by, { action: 'client.delete', target: before.client_id, before: publicClient(result.deleted), after: { endedRpSessions: result.endedRpSessions } });
  return { deleted: publicClient(result.deleted), endedRpSessions: result.endedRpSessions };
}
