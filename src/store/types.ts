import type { AuditQuery, AuditPage, AuditRecord, NewAuditRecord } from '../audit/types.ts';
import type { Org, User, ClientRecord } from '../orgs/types.ts';

/**
 * The payload oidc-provider hands its adapter. The store treats it as opaque JSON;
 * only `consumed` is written by the store itself (see {@link ModelStore.consume}).
 */
export type ModelPayload = Record<string, unknown>;

/**
 * Secondary keys of a model record. Every value is already a keyed hash (see
 * `src/store/identifier-hash.ts`): stores never see session or token identifiers in plaintext.
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
  upsert(model: string, id: string, payload: ModelPayload, expiresInSeconds: number | undefined, indexes: ModelIndexes): Promise<void>;
  find(model: string, id: string): Promise<ModelPayload | undefined>;
  findByUid(model: string, uid: string): Promise<ModelPayload | undefined>;
  findByUserCode(model: string, userCode: string): Promise<ModelPayload | undefined>;
  /** Marks the record consumed (epoch seconds) keeping its TTL; atomic, a no-op for missing records. */
  consume(model: string, id: string, atEpochSeconds: number): Promise<void>;
  destroy(model: string, id: string): Promise<void>;
  /** Deletes every record of any model that was upserted with this grantId. */
  revokeByGrantId(grantId: string): Promise<void>;
}

/** Thrown by directory writes that would break a uniqueness rule (username per org, client_id). */
export class ConflictError extends Error {
  readonly code = 'conflict';
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'ConflictError';
    this.field = field;
  }
}

/**
 * Orgs, users and clients. Usernames are unique within an org; client ids are global
 * (they appear in tokens and URLs). Writes of one record are atomic.
 */
export interface DirectoryStore {
  getOrg(id: string): Promise<Org | undefined>;
  listOrgs(): Promise<Org[]>;
  putOrg(org: Org): Promise<void>;

  getUser(id: string): Promise<User | undefined>;
  findUserByName(org: string, username: string): Promise<User | undefined>;
  listUsers(org: string): Promise<User[]>;
  /** Creates or replaces a user; throws ConflictError('username') if another user of the org has the name. */
  putUser(user: User): Promise<void>;
  deleteUser(id: string): Promise<void>;

  getClient(clientId: string): Promise<ClientRecord | undefined>;
  listClients(org: string): Promise<ClientRecord[]>;
  /** Creates or replaces a client; throws ConflictError('client_id') if the id belongs to another org. */
  putClient(client: ClientRecord): Promise<void>;
  deleteClient(clientId: string): Promise<void>;
}

/** Long-lived generated material (signing keys, cookie keys) shared by every instance. */
export interface SecretStore {
  /**
   * Returns the stored value, or stores `create()`'s result if none exists yet. Atomic across
   * instances: concurrent first calls all return the one value that won.
   */
  getOrCreate(name: string, create: () => string): Promise<string>;
}

/** The durable audit stream, per org, newest first when queried. */
export interface AuditStore {
  append(record: NewAuditRecord): Promise<AuditRecord>;
  query(query: AuditQuery): Promise<AuditPage>;
}

export interface RateLimitOptions {
  /** Distinguishes limiters sharing a store. */
  name: string;
  /** Failures allowed within the window. */
  points: number;
  durationSeconds: number;
  /** Once the points are spent, the key stays blocked this long. */
  blockSeconds: number;
}

export interface RateLimitState {
  blocked: boolean;
  retryAfterSeconds: number;
}

/** Counts failures (credentials, codes) per key and blocks a key that spends its points. */
export interface RateLimiter {
  check(key: string): Promise<RateLimitState>;
  fail(key: string): Promise<RateLimitState>;
  reset(key: string): Promise<void>;
}

/** Every piece of Curfew's state. Redis in production, memory for the embedded default. */
export interface Store {
  readonly kind: 'memory' | 'redis';
  readonly models: ModelStore;
  readonly directory: DirectoryStore;
  readonly secrets: SecretStore;
  readonly audit: AuditStore;
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
