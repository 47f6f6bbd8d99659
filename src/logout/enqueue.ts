import { randomUUID } from 'node:crypto';
import type { EndListener } from '../sessions/service.ts';
import type { Delivery, Store } from '../store/types.ts';

/**
 * SPEC §9: every end of an RP session owes its client one logout token, if the client
 * registered a back-channel logout URI. The deliveries are queued durably in the same step.
 */
export function enqueueLogoutTokens(store: Store, onEnqueued?: (deliveries: Delivery[]) => void): EndListener {
  return async ({ reason, session, rps, deadlineAt }) => {
    const now = await store.now();
    const deliveries: Delivery[] = [];
    for (const rp of rps) {
      // A deleted client's sessions end after its removal: its tombstone keeps the URI it had.
      const client = (await store.directory.getClient(rp.client)) ?? (await store.directory.getClientTombstone(rp.client));
      if (!client?.backchannel_logout_uri) continue;
      deliveries.push({
        id: randomUUID(),
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
    await store.deliveries.enqueue(deliveries);
    onEnqueued?.(deliveries);
  };
}
