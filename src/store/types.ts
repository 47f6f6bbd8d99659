import type { AuditStore } from '../audit/store.ts';
import type { DeliveryStore, LogoutOutbox } from '../logout/store.ts';
import type { MfaStore } from '../mfa/store.ts';
import type { ChangeFeed, DirectoryStore } from '../orgs/store.ts';
import type { RateLimiter, RateLimitOptions } from '../rate-limit/rate-limiter.ts';
import type { SessionStore } from '../sessions/store.ts';

/*
 * The store's interface. Each domain owns the port it uses (src/sessions/store.ts,
 * src/logout/store.ts, src/mfa/store.ts, src/audit/store.ts, src/orgs/store.ts) so that it never
 * imports src/store; this module assembles them into the aggregate `Store` the backends implement
 * and declares the store's own parts (oidc-provider's models, secrets, the wipe marker).
 */

export type { AuditStore } from '../audit/store.ts';
export type { DeliveryStore, LogoutOutbox } from '../logout/store.ts';
export type { MfaStore } from '../mfa/store.ts';
export type { ChangeFeed, ChangeListener, DirectoryChange, DirectoryStore } from '../orgs/store.ts';
export type { RateLimiter, RateLimitOptions, RateLimitState, Reservation } from '../rate-limit/rate-limiter.ts';
export type { EndedOutbox, QueueCensus, SessionStore } from '../sessions/store.ts';

/**
 * The payload oidc-provider hands its adapter. The store treats it as opaque JSON;
 * only `consumed` is written by the store itself (see {@link ModelStore.consume}).
 */
export type ModelPayload = Record<string, unknown>;

/**
 * Secondary keys of a model record. Every value is already a keyed hash (see
 * `src/crypto/identifier-hash.ts`): stores never see session or token identifiers in plaintext.
 */
export interface ModelIndexes {
  uid?: string;
  userCode?: string;
  grantId?: string;
}

/**
 * Storage behind oidc-provider's adapter. Records expire `expiresInSeconds` after their last
 * upsert (no expiry when omitted); a secondary index never outlives its record's lookup window
 * and is refreshed by every upsert, so a sliding session stays findable by uid.
 */
export interface ModelStore {
  /**
   * Atomic: the record, its indexes and its grant set in one Lua function. On Redis Cluster
   * three steps (each its own slot): the grant set, the indexes, then the record.
   */
  upsert(model: string, id: string, payload: ModelPayload, expiresInSeconds: number | undefined, indexes: ModelIndexes): Promise<void>;
  /** One read. */
  find(model: string, id: string): Promise<ModelPayload | undefined>;
  /** Two reads (index, then record): an index whose record died in between finds nothing, as if read later. */
  findByUid(model: string, uid: string): Promise<ModelPayload | undefined>;
  /** Two reads, as findByUid. */
  findByUserCode(model: string, userCode: string): Promise<ModelPayload | undefined>;
  /** Marks the record consumed (epoch seconds) keeping its TTL; atomic, a no-op for missing records. */
  consume(model: string, id: string, atEpochSeconds: number): Promise<void>;
  /** One command. Leaves its indexes to expire with their TTL: they lead to nothing once the record is gone. */
  destroy(model: string, id: string): Promise<void>;
  /**
   * Deletes every record of any model that was upserted with this grantId. Atomic (one Lua
   * function); on Redis Cluster the set is read, then each record deleted.
   */
  revokeByGrantId(grantId: string): Promise<void>;
}

/** Thrown by directory writes that would break a uniqueness rule (username per org, client_id). */
export { ConflictError } from '../errors.ts';

/** Long-lived generated material (signing keys, cookie keys) shared by every instance. */
export interface SecretStore {
  /**
   * Returns the stored value, or stores `create()`'s result if none exists yet. Atomic across
   * instances: concurrent first calls all return the one value that won (one SET NX GET).
   */
  getOrCreate(name: string, create: () => string): Promise<string>;
}

/**
 * The mark a deployment leaves in its store. A store that answers but no longer holds it lost
 * its state (a Redis restarted without persistence, a FLUSHALL): Curfew reports not ready and
 * re-applies its seed and keys (src/store/wipe-detection.ts).
 */
export interface StoreMarker {
  /** The marker, or undefined when the store does not hold one. One read. */
  read(): Promise<string | undefined>;
  /**
   * Stores `value` unless a marker is already there, and returns the marker the store now
   * holds. Atomic across instances: of concurrent calls, one value wins and all return it.
   */
  settle(value: string): Promise<string>;
  /**
   * Claims the restoring of a wiped store for `ms`: true for exactly one of concurrent callers
   * until the claim expires. Atomic across instances (one SET NX PX).
   */
  claimRestore(holder: string, ms: number): Promise<boolean>;
  /** Gives the claim up, if `holder` still holds it (one compare-and-delete), so a failed restore is retried at once. */
  releaseRestore(holder: string): Promise<void>;
}

/**
 * Every piece of Curfew's state. Redis in production, memory for the embedded default.
 *
 * Each method states its atomicity in one line: "atomic" means one step no other caller can
 * interleave with (one Lua function or MULTI in Redis, one synchronous step with no await in
 * memory); "one read" / "one command" a single Redis command; reads spanning several commands
 * say so, and why that is enough. A read-modify-write is never split across round trips.
 */
export interface Store {
  readonly kind: 'memory' | 'redis';
  readonly models: ModelStore;
  readonly directory: DirectoryStore;
  readonly secrets: SecretStore;
  readonly marker: StoreMarker;
  readonly audit: AuditStore;
  readonly sessions: SessionStore;
  readonly mfa: MfaStore;
  readonly deliveries: DeliveryStore;
  readonly ended: LogoutOutbox;
  /** The directory's changes, heard by every instance (its writes publish them). */
  readonly changes: ChangeFeed;
  rateLimiter(options: RateLimitOptions): RateLimiter;
  /**
   * The one clock every instance shares, in epoch milliseconds: the Redis server's `TIME` in
   * Redis mode, so an instance with a skewed local clock still agrees with the others.
   */
  now(): Promise<number>;
  /** Resolves when the store answers; rejects otherwise (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
