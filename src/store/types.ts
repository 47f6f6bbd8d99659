import type { AuditQuery, AuditPage, AuditRecord, NewAuditRecord } from '../audit/types.ts';
import type { Org, User, ClientRecord } from '../orgs/types.ts';
import type { Activity, ActivitySource, RpSession, SessionCheck, SsoSession } from '../sessions/types.ts';

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

/** Limits to write into a session when a policy changes: the SSO's and each RP's. */
export interface SessionLimitsUpdate {
  idleSeconds: number;
  absoluteSeconds: number;
  warningSeconds: number;
  refreshIsActivity: boolean;
  rps: Record<string, { idleSeconds: number; absoluteSeconds: number; refreshIsActivity: boolean }>;
}

export interface NewSsoSession {
  id: string;
  org: string;
  user: string;
  ip?: string;
  idleSeconds: number;
  absoluteSeconds: number;
  warningSeconds: number;
  refreshIsActivity: boolean;
}

export interface NewRpSession {
  client: string;
  sid: string;
  /** Keyed hash of `sid`, for {@link SessionStore.checkBySid}. */
  sidKey: string;
  grantId?: string;
  idleSeconds: number;
  absoluteSeconds: number;
  refreshIsActivity: boolean;
}

/**
 * SSO and RP sessions with their deadlines. Every operation reads the shared clock and the
 * session in one atomic step (one Lua script in Redis), so deadlines are judged by the same
 * time on every instance. `key` is the keyed hash of the session id (`SsoSession.id`).
 */
export interface SessionStore {
  /**
   * Records a sign-in. A live session of the same user keeps its `signedInAt` (a step-up never
   * extends the absolute limit) and counts the sign-in as activity; a dead, missing or other
   * user's session is replaced by a new one, which is returned as `replaced` for ending.
   */
  login(key: string, session: NewSsoSession): Promise<{ session: SsoSession; replaced?: SsoSession; now: number }>;
  /**
   * Adds the client's RP session if the SSO session is alive and the client has no live RP
   * session with this sid; a dead RP session of the client is replaced and returned.
   */
  addRp(key: string, rp: NewRpSession): Promise<{ session?: SsoSession; replaced?: RpSession; now: number }>;
  /** Judges the session (and the client's RP session) now; `active` moves lastActiveAt of the live ones. */
  check(key: string, client: string | undefined, activity: Activity): Promise<SessionCheck>;
  /** `check` of the session an RP's `sid` belongs to, found and judged in one atomic step. */
  checkBySid(sidKey: string, client: string, activity: Activity): Promise<SessionCheck>;
  /** Moves every live RP session's lastActiveAt too ("stay signed in" on the account page). */
  touchAll(key: string): Promise<SessionCheck>;
  get(key: string): Promise<SsoSession | undefined>;
  /** Removes the session; only one caller of concurrent ends gets it back (ends happen once). */
  end(key: string): Promise<SsoSession | undefined>;
  /** Removes one RP session; only one concurrent caller gets it back. */
  endRp(key: string, client: string): Promise<RpSession | undefined>;
  /** Rewrites the limits of a session that still exists, and judges it with the new limits. */
  setLimits(key: string, limits: SessionLimitsUpdate): Promise<SessionCheck>;
  /**
   * Counts one active signal of `source` on the session (count + 1, lastAt = the shared clock's
   * now, lastClient). Atomic read-modify-write: concurrent counts are all kept. A missing
   * session is left alone. Changes no deadline and keeps the record's expiry.
   */
  countActivity(key: string, source: ActivitySource, client: string | undefined): Promise<void>;
  /**
   * Records that the client's RP session was warned for the warning window starting at
   * `warningAt`. Compare-and-set in one atomic step: true only for the one caller that recorded
   * this window (of any number of concurrent ones); false if it was recorded before, or the RP
   * session is missing or ended. Keeps the record's expiry.
   */
  markWarned(key: string, client: string, warningAt: number): Promise<boolean>;
  /** Keys of the org's / user's sessions (possibly including ended ones not yet cleaned up). */
  keysOfOrg(org: string): Promise<string[]>;
  keysOfUser(user: string): Promise<string[]>;
  /**
   * The deadline index: keys of sessions whose next deadline (SSO or any live RP) is at or
   * before the shared clock's now, claimed atomically — each claimed key is hidden from other
   * claimers for `leaseMs`, so of many sweeping instances one handles it. Every write to a
   * session keeps its index entry current; ending a session removes it.
   */
  claimDue(limit: number, leaseMs: number): Promise<{ keys: string[]; now: number }>;
}

export type DeliveryState = 'pending' | 'dead';

/** One logout token owed to one RP (SPEC §9). */
export interface Delivery {
  id: string;
  org: string;
  client: string;
  uri: string;
  sub: string;
  sid: string;
  reason: string;
  session: string;
  /** Shared-clock ms the session ended at (for the lag metric). */
  endedAt: number;
  enqueuedAt: number;
  attempts: number;
  state: DeliveryState;
  nextAttemptAt: number;
  lastError?: string;
}

/**
 * The durable logout-token queue. Claims are leases: a delivery claimed by an instance that
 * dies is claimable again after `leaseMs`, so nothing is lost (at-least-once).
 */
export interface DeliveryStore {
  enqueue(deliveries: Delivery[]): Promise<void>;
  claim(limit: number, leaseMs: number): Promise<{ deliveries: Delivery[]; now: number }>;
  /** Delivered: gone from the queue. */
  complete(id: string): Promise<void>;
  /** Failed, to be tried again at `nextAttemptAt`. */
  retryLater(id: string, attempts: number, nextAttemptAt: number, error: string): Promise<void>;
  /** Failed for good: kept as a dead letter for admins. */
  bury(id: string, attempts: number, error: string): Promise<void>;
  get(id: string): Promise<Delivery | undefined>;
  list(org: string, state: DeliveryState): Promise<Delivery[]>;
  /** A dead letter back into the queue, due now (admin retry). */
  revive(id: string): Promise<boolean>;
}

/** A user's TOTP enrollment; the secret only ever sealed (src/mfa/secret-box.ts). */
export interface TotpEnrollment {
  secret: { kid: string; iv: string; ct: string; tag: string };
  enrolledAt: string;
}

/**
 * TOTP state per user. Replay protection and recovery codes are atomic across instances:
 * a time step or a recovery code is accepted once, by one request, ever.
 */
export interface MfaStore {
  getEnrollment(user: string): Promise<TotpEnrollment | undefined>;
  /** Stores the enrollment and replaces the recovery codes (hashes) in one step. */
  enroll(user: string, enrollment: TotpEnrollment, recoveryCodeHashes: string[]): Promise<void>;
  /** Removes enrollment, last step and recovery codes (admin reset). */
  reset(user: string): Promise<void>;
  /** Records `step` as used if it is later than every step used before; false = replay. */
  useTimeStep(user: string, step: number): Promise<boolean>;
  /** Removes the code's hash if present; true only for the one caller that removed it. */
  useRecoveryCode(user: string, hash: string): Promise<boolean>;
  recoveryCodesLeft(user: string): Promise<number>;
  /** Step-up requirements: '*' (every client) or client ids, until cleared. */
  requireStepUp(user: string, scope: string): Promise<void>;
  stepUpScopes(user: string): Promise<string[]>;
  clearStepUp(user: string, scopes: string[]): Promise<void>;
}

/** Every piece of Curfew's state. Redis in production, memory for the embedded default. */
export interface Store {
  readonly kind: 'memory' | 'redis';
  readonly models: ModelStore;
  readonly directory: DirectoryStore;
  readonly secrets: SecretStore;
  readonly audit: AuditStore;
  readonly sessions: SessionStore;
  readonly mfa: MfaStore;
  readonly deliveries: DeliveryStore;
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
