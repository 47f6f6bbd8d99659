import type { AuditQuery, AuditPage, AuditRecord, NewAuditRecord } from '../audit/types.ts';
import type { Org, User, ClientRecord, ClientTombstone } from '../orgs/types.ts';
import type { Delivery, DeliveryState } from '../logout/types.ts';
import type { TotpEnrollment } from '../mfa/types.ts';
import type {
  Activity,
  ActivitySource,
  EndedEntry,
  Ending,
  NewRpSession,
  NewSsoSession,
  ReplacedEnding,
  RpSession,
  SessionCheck,
  SessionLimitsUpdate,
  SsoSession,
} from '../sessions/types.ts';

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
  /** Atomic: the record, its indexes and its grant set in one Lua function. */
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
  /** Deletes every record of any model that was upserted with this grantId. Atomic (one Lua function). */
  revokeByGrantId(grantId: string): Promise<void>;
}

/** Thrown by directory writes that would break a uniqueness rule (username per org, client_id). */
export { ConflictError } from '../errors.ts';

/**
 * Orgs, users and clients. Usernames are unique within an org; client ids are global
 * (they appear in tokens and URLs) and never reused. Writes of one record are atomic.
 */
export interface DirectoryStore {
  /** One read. */
  getOrg(id: string): Promise<Org | undefined>;
  /** Two reads (ids, then records), not a snapshot: an org written meanwhile may or may not be listed. */
  listOrgs(): Promise<Org[]>;
  /** Atomic: the record and the list of orgs (one MULTI). */
  putOrg(org: Org): Promise<void>;

  /** One read. */
  getUser(id: string): Promise<User | undefined>;
  /** Two reads (name index, then record). */
  findUserByName(org: string, username: string): Promise<User | undefined>;
  /** Two reads, not a snapshot, as listOrgs. */
  listUsers(org: string): Promise<User[]>;
  /**
   * Creates or replaces a user; throws ConflictError('username') if another user of the org has
   * the name. Atomic: the check and the write with the org's indexes are one Lua function.
   */
  putUser(user: User): Promise<void>;
  /**
   * Atomic delete of the user with its indexes (one Lua function); the org whose indexes it edits is
   * read first, and the delete retried should the user be recreated in another org meanwhile.
   */
  deleteUser(id: string): Promise<void>;

  /** One read. */
  getClient(clientId: string): Promise<ClientRecord | undefined>;
  /** Two reads, not a snapshot, as listOrgs. */
  listClients(org: string): Promise<ClientRecord[]>;
  /**
   * Creates a client whose id is unused: throws ConflictError('client_id') — one message, whoever
   * holds it — if any org's client has the id or ever had it (tombstone). Atomic: of concurrent
   * creations of one id, exactly one succeeds.
   */
  createClient(client: ClientRecord): Promise<void>;
  /**
   * Creates or replaces a client; throws ConflictError('client_id') if the id belongs to another
   * org or was deleted (a write racing a delete never resurrects it). Atomic.
   */
  putClient(client: ClientRecord): Promise<void>;
  /**
   * Removes the client and leaves its tombstone in one atomic step; returns what was removed. Its
   * org is read first, as deleteUser's.
   */
  deleteClient(clientId: string): Promise<ClientRecord | undefined>;
  /** One read. */
  getClientTombstone(clientId: string): Promise<ClientTombstone | undefined>;
}

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

/** The durable audit stream, per org, newest first when queried. */
export interface AuditStore {
  /** Atomic: stamped with the shared clock and ordered after the newest event, in one Lua function. */
  append(record: NewAuditRecord): Promise<AuditRecord>;
  /** Reads page by page, newest first; events appended meanwhile are newer than the first page and not in it. */
  query(query: AuditQuery): Promise<AuditPage>;
}

export interface RateLimitOptions {
  /** Distinguishes limiters sharing a store. */
  name: string;
  /** Attempts allowed within the window. */
  points: number;
  durationSeconds: number;
  /** Once the points are spent, the key stays blocked this long. */
  blockSeconds: number;
}

export interface RateLimitState {
  blocked: boolean;
  retryAfterSeconds: number;
}

/**
 * The answer to {@link RateLimiter.reserve}: either one attempt is the caller's to evaluate
 * (`last`: it spent the key's last point, so if it fails the key is now blocked), or none is left.
 */
export type Reservation = { granted: true; last: boolean } | { granted: false; retryAfterSeconds: number };

/**
 * Limits attempts (credentials, codes) per key. An attempt is reserved BEFORE it is evaluated
 * and kept as a failure unless it is refunded, so parallel attempts can never evaluate more
 * than `points` guesses: checking and counting are one step. The window starts at a key's first
 * reservation; the reservation that spends the last point blocks the key for `blockSeconds`
 * from then. Time is the store's shared clock. Every method is atomic across instances (one
 * Lua function in Redis, one synchronous step in memory).
 */
export interface RateLimiter {
  /** Reads the key's state without reserving anything. */
  check(key: string): Promise<RateLimitState>;
  /** Takes one attempt if the key has one left; refused (with the block's remaining time) otherwise. */
  reserve(key: string): Promise<Reservation>;
  /**
   * Gives back one reserved attempt: the attempt succeeded or was never judged. A key that
   * drops below its points is no longer blocked (its window keeps its end).
   */
  refund(key: string): Promise<void>;
  /** Forgets the key: every attempt and any block. */
  reset(key: string): Promise<void>;
}

/**
 * SSO and RP sessions with their deadlines. Every operation reads the shared clock and the
 * session in one atomic step (one Lua function in Redis), so deadlines are judged by the same
 * time on every instance. `key` is the keyed hash of the session id (`SsoSession.id`).
 */
export interface SessionStore {
  /**
   * Records a sign-in. A live session of the same user keeps its `signedInAt` (a step-up never
   * extends the absolute limit) and counts the sign-in as activity; a dead, missing or other
   * user's session is replaced by a new one, which is returned as `replaced`. Its end is
   * recorded in the outbox in the same atomic step (entry `ending.id`; reason its deadline that
   * passed, else `logout`), as `end` does.
   */
  login(key: string, session: NewSsoSession, ending: ReplacedEnding): Promise<{ session: SsoSession; replaced?: SsoSession; now: number }>;
  /**
   * Adds the client's RP session if the SSO session is alive and the client has no live RP
   * session with this sid; another RP session of the client is replaced and returned. If it had
   * not ended yet, its end is recorded in the outbox in the same atomic step, as `login` does.
   */
  addRp(key: string, rp: NewRpSession, ending: ReplacedEnding): Promise<{ session?: SsoSession; replaced?: RpSession; now: number }>;
  /** Judges the session (and the client's RP session) now; `active` moves lastActiveAt of the live ones. */
  check(key: string, client: string | undefined, activity: Activity): Promise<SessionCheck>;
  /**
   * `check` of the session an RP's `sid` belongs to, found and judged in one atomic step. The
   * sid must be `client`'s own RP session (`rps[client].sidKey === sidKey`), verified in that
   * same step before anything is written: any other sid answers `missing` and touches nothing.
   */
  checkBySid(sidKey: string, client: string, activity: Activity): Promise<SessionCheck>;
  /** Moves every live RP session's lastActiveAt too ("stay signed in" on the account page). Atomic, as `check`. */
  touchAll(key: string): Promise<SessionCheck>;
  /** One read; judges nothing. */
  get(key: string): Promise<SsoSession | undefined>;
  /**
   * Removes the session and, in the same atomic step, appends its {@link EndedEntry} (every live
   * RP session it owes a logout token) to the ended-sessions outbox, leased to the caller for
   * `ending.leaseMs`. Only one caller of concurrent ends gets the session back (ends happen
   * once, and so does the entry): a crash or a store restart after this step loses nothing owed.
   */
  end(key: string, ending: Ending): Promise<SsoSession | undefined>;
  /**
   * Ends one RP session (its tombstone stays) and appends its {@link EndedEntry} to the outbox in
   * the same atomic step, leased to the caller like `end`. Only one concurrent caller gets it back.
   */
  endRp(key: string, client: string, ending: Ending): Promise<RpSession | undefined>;
  /** Rewrites the limits of a session that still exists, and judges it with the new limits. Atomic (one Lua function). */
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
  /** Keys of the org's / user's sessions (possibly including ended ones not yet cleaned up). One read each. */
  keysOfOrg(org: string): Promise<string[]>;
  keysOfUser(user: string): Promise<string[]>;
  /**
   * The deadline index: keys of sessions whose next deadline (SSO or any live RP) is at or
   * before the shared clock's now, claimed atomically — each claimed key is hidden from other
   * claimers for `leaseMs`, so of many sweeping instances one handles it. Every write to a
   * session keeps its index entry current; ending a session removes it. `nextAt`: the index's
   * earliest entry after the claim (a deadline, or a claim's lease running out), read in the
   * same step; absent when the index is empty. The sweeper sleeps until then (at most its tick).
   */
  claimDue(limit: number, leaseMs: number): Promise<{ keys: string[]; now: number; nextAt?: number }>;
  /**
   * For the operator's gauges, read in one atomic step (one Lua function in Redis): SSO sessions not
   * yet ended (the deadline index), those whose next deadline has passed and are not claimed by
   * a sweeper, and the earliest such deadline. Never changes anything.
   */
  census(): Promise<QueueCensus & { live: number }>;
  /**
   * For the operator's gauge: RP sessions not yet ended (started, neither ended themselves nor
   * by their SSO session's end, nor replaced). A count kept by the very steps that start and end
   * RP sessions (in Redis, inside their functions), so it is one cheap read and never drifts from
   * them; a record left to expire unended (a day past its deadline, with no sweeper running)
   * would stay counted. One read.
   */
  liveRpSessions(): Promise<number>;
}

/** A queue's depth at one instant of the shared clock: `due` of `size` are due, the oldest since `oldestDueAt`. */
export interface QueueCensus {
  now: number;
  size: number;
  due: number;
  oldestDueAt?: number;
}

/**
 * The ended-sessions outbox. Entries are appended by the session store's ends, and by sign-ins
 * that replace a session (atomically with them); workers claim them with leases like deliveries. Every method is
 * one atomic step (one Lua function in Redis, one synchronous step in memory).
 */
export interface EndedOutbox {
  /**
   * Appends an entry outside a session store's end (the ends of the session store record their
   * own), leased to the caller for `leaseMs`. Idempotent by `entry.id`: a second append of an id
   * returns the entry already there.
   */
  append(entry: Omit<EndedEntry, 'queued' | 'endedAt'>, leaseMs: number): Promise<EndedEntry>;
  /** Takes up to `limit` entries whose lease ran out, and leases each for `leaseMs` in the same step. */
  claim(limit: number, leaseMs: number): Promise<{ entries: EndedEntry[]; now: number }>;
  /**
   * Queues the entry's deliveries and marks it queued, in one step, once: true for the one
   * caller that queued them; false (nothing written) if they were queued before or the entry
   * is gone. So processing an entry again after a crash never queues a token twice.
   */
  queueDeliveries(id: string, deliveries: Delivery[]): Promise<boolean>;
  /** Done: the entry is gone. A no-op for an entry already gone. Atomic: the entry and its lease together. */
  complete(id: string): Promise<void>;
  /** One read. */
  get(id: string): Promise<EndedEntry | undefined>;
  /** How many entries are waiting (claimed or not). One read. */
  size(): Promise<number>;
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
  /** Queues every delivery, all or none (one MULTI). */
  enqueue(deliveries: Delivery[]): Promise<void>;
  /**
   * Takes up to `limit` deliveries due by the shared clock, oldest due first, and hides each for
   * `leaseMs` in the same step: concurrent claimers never share one.
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

/**
 * TOTP state per user. Replay protection and recovery codes are atomic across instances:
 * a time step or a recovery code is accepted once, by one request, ever.
 */
export interface MfaStore {
  /** One read. */
  getEnrollment(user: string): Promise<TotpEnrollment | undefined>;
  /**
   * Compare-and-set: stores the enrollment and its recovery codes (hashes) in one atomic step,
   * only if the user has no enrollment; false (nothing written) if one exists. Of concurrent
   * calls for one user exactly one succeeds. Replacing an enrollment is `reset` then `enroll`.
   */
  enroll(user: string, enrollment: TotpEnrollment, recoveryCodeHashes: string[]): Promise<boolean>;
  /** Removes enrollment, last step and recovery codes (admin reset). Atomic (one DEL of the three keys). */
  reset(user: string): Promise<void>;
  /** Records `step` as used if it is later than every step used before; false = replay. Atomic compare-and-set. */
  useTimeStep(user: string, step: number): Promise<boolean>;
  /** Removes the code's hash if present; true only for the one caller that removed it. One command (SREM). */
  useRecoveryCode(user: string, hash: string): Promise<boolean>;
  /** One read. */
  recoveryCodesLeft(user: string): Promise<number>;
  /** Step-up requirements: '*' (every client) or client ids, until cleared. One command each. */
  requireStepUp(user: string, scope: string): Promise<void>;
  stepUpScopes(user: string): Promise<string[]>;
  clearStepUp(user: string, scopes: string[]): Promise<void>;
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
  readonly ended: EndedOutbox;
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
