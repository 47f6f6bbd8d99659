import { createHash } from 'node:crypto';
import { routingPrefix } from '../sessions/ending-id.ts';
import type { EndListener } from '../sessions/service.ts';
import type { DirectoryStore } from '../orgs/store.ts';
import type { LogoutOutbox } from './store.ts';
import type { Delivery } from './types.ts';

/** What queueing reads and writes: the shared clock, the clients (deleted ones too) and the outbox. */
export interface EnqueueStore {
  now(): Promise<number>;
  directory: Pick<DirectoryStore, 'getClient' | 'getClientTombstone'>;
  ended: Pick<LogoutOutbox, 'queueDeliveries'>;
}

/**
 * The client a logout token goes to: as it is, or as its tombstone left it — a deleted client's
 * sessions end after its removal, and the tombstone keeps the URI it had.
 */
export async function clientOrTombstone(directory: EnqueueStore['directory'], id: string) {
  return (await directory.getClient(id)) ?? (await directory.getClientTombstone(id));
}

/**
 * A delivery's id, derived from what it is owed for (the RP session), so an end processed again
 * after a crash names the same deliveries rather than new ones; it starts with its ending's
 * routing prefix, so the store finds it where it keeps the ending (src/sessions/ending-id.ts).
 */
export function deliveryId(endingId: string, session: string, client: string, sid: string): string {
  return routingPrefix(endingId) + createHash('sha256').update(`${session}\n${client}\n${sid}`).digest('base64url').slice(0, 32);
}

/**
 * SPEC §9: every end of an RP session owes its client one logout token, if the client
 * registered a back-channel logout URI. The end's outbox entry queues them, once: processing the
 * entry again after a crash queues nothing twice (see EndedOutbox.queueDeliveries).
 */
export function enqueueLogoutTokens(store: EnqueueStore, onEnqueued?: (deliveries: Delivery[]) => void): EndListener {
  return async ({ id, reason, session, rps, deadlineAt }) => {
    // Read together: each is a round trip, and every end of a wave waits on them.
    const [now, ...clients] = await Promise.all([
      store.now(),
      ...rps.map((rp) => clientOrTombstone(store.directory, rp.client)),
    ]);
    const deliveries: Delivery[] = [];
    for (const [i, rp] of rps.entries()) {
      const client = clients[i];
      if (!client?.backchannel_logout_uri) continue;
      deliveries.push({
        id: deliveryId(id, session.id, rp.client, rp.sid),
        org: session.org,
        client: rp.client,
        uri: client.backchannel_logout_uri,
        sub: session.user,
        sid: rp.sid,
        reason,
        session: session.id,
        endedAt: deadlineAt ?? now,
        enqueuedAt: now,
        attempts: 0,
        state: 'pending',
        nextAttemptAt: now,
      });
    }
    if (await store.ended.queueDeliveries(id, deliveries)) onEnqueued?.(deliveries);
  };
}
