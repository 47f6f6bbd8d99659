import type { EndedOutbox, QueueCensus } from '../sessions/store.ts';
import type { Delivery, DeliveryState } from './types.ts';

/*
 * The logout domain's store ports: src/store implements them, and the aggregate Store
 * (src/store/types.ts) is assembled from them and the other domains' ports.
 */

/**
 * The ended-sessions outbox (src/sessions/store.ts) with logout's step: its entries become
 * logout-token deliveries. Atomic, as every outbox method.
 */
export interface LogoutOutbox extends EndedOutbox {
  /**
   * Queues the entry's deliveries and marks it queued, in one step, once: true for the one
   * caller that queued them; false (nothing written) if they were queued before or the entry
   * is gone. So processing an entry again after a crash never queues a token twice.
   */
  queueDeliveries(id: string, deliveries: Delivery[]): Promise<boolean>;
}

/**
 * The durable logout-token queue. Claims are leases: a delivery claimed by an instance that
 * dies is claimable again after `leaseMs`, so nothing is lost (at-least-once). Every method
 * that writes changes its deliveries atomically with their index entries (the due queue, the
 * org's pending and dead lists): one Lua function (or, for enqueue, one MULTI) in Redis, one
 * synchronous step in memory. A state change reads and writes in that same step, so a retry
 * racing an admin's revive or a late worker's bury never writes over the other.
 */
export interface DeliveryStore {
  /** Queues every delivery, all or none (one MULTI; on Redis Cluster one per shard). */
  enqueue(deliveries: Delivery[]): Promise<void>;
  /**
   * Takes up to `limit` deliveries due by the shared clock, oldest due first, and hides each for
   * `leaseMs` in the same step: concurrent claimers never share one. On Redis Cluster (sharded
   * queues) a claim racing others may return fewer than are due; the next claim takes them.
   */
  claim(limit: number, leaseMs: number): Promise<{ deliveries: Delivery[]; now: number }>;
  /** Delivered: gone from the queue and its org's list. A no-op for a delivery already gone. Atomic. */
  complete(id: string): Promise<void>;
  /** Failed, to be tried again at `nextAttemptAt`. Only a pending delivery is rescheduled. Atomic compare-and-set. */
  retryLater(id: string, attempts: number, nextAttemptAt: number, error: string): Promise<void>;
  /** Failed for good: kept as a dead letter for admins. Only a pending delivery is buried. Atomic compare-and-set. */
  bury(id: string, attempts: number, error: string): Promise<void>;
  /** One read. */
  get(id: string): Promise<Delivery | undefined>;
  /** Two reads (ids, then records), not a snapshot: an admin's list, oldest first. */
  list(org: string, state: DeliveryState): Promise<Delivery[]>;
  /**
   * A dead letter back into the queue, due now, with a fresh attempt budget (admin retry).
   * True for the one caller that revived it; false for a delivery that is not dead. Atomic compare-and-set.
   */
  revive(id: string): Promise<boolean>;
  /**
   * For the operator's gauges: pending deliveries (due now, claimed, or scheduled for a retry),
   * those due now and the oldest due one, read in one atomic step; then the dead letters of the
   * given orgs (a gauge, so a count a moment later is fine). Never changes anything.
   */
  census(orgs: string[]): Promise<QueueCensus & { dead: number }>;
}
