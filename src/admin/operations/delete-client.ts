import type { DirectoryStore } from '../../orgs/store.ts';
import type { ClientRecord } from '../../orgs/types.ts';
import type { SessionService } from '../../sessions/service.ts';

export interface DeleteClientDeps {
  directory: DirectoryStore;
  sessions: SessionService;
}

/**
 * Deletes a client for good (issue 10 item 8). The tombstone comes first, in the same store step
 * as the removal: from then on the provider finds no such client (no new session, no token
 * redeemed) and no org can register the id again. Then every RP session of the client ends
 * (reason `client_deleted`): its grant's tokens are revoked and its logout token is queued for
 * the URI the client had — the tombstone keeps it, for this org only.
 */
export async function deleteClient(deps: DeleteClientDeps, client: Pick<ClientRecord, 'client_id' | 'org'>): Promise<{ deleted: ClientRecord; endedRpSessions: number } | undefined> {
  const deleted = await deps.directory.deleteClient(client.client_id);
  if (!deleted) return undefined;
  let endedRpSessions = 0;
  for (const session of await deps.sessions.list(deleted.org, { client: deleted.client_id })) {
    if (await deps.sessions.endRp(session.id, deleted.client_id, 'client_deleted')) endedRpSessions++;
  }
  return { deleted, endedRpSessions };
}
