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
} from './types.ts';

/*
 * The sessions domain's store ports: src/store implements them, and the aggregate Store
 * (src/store/types.ts) is assembled from them and the other domains' ports.
 */

/**
 * SSO and RP sessions with their deadlines. Every operation reads the shared clock and the
 * session in one atomic step (one Lua function in Redis), so deadlines are judged by the same
 * time on every instance. `key` is the keyed hash of the session id (`SsoSession.id`).
 */
export interface SessionStore {
  /**
   * A fresh id for an end of this session (an `Ending`'s or `ReplacedEnding`'s id), made by
   * the store: it may start with a routing prefix (src/sessions/ending-id.ts) so a store that
   * keeps a session's outbox entries beside it (Redis Cluster) finds the entry by id alone. An
   * end must be given an id made for its session. No I/O.
   */
  endingId(key: string): string;
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
   * `check` of the session an RP's `sid` belongs to, found and judged in one atomic step (on
   * Redis Cluster two: the sid is looked up first). The sid must be `client`'s own RP session
   * (`rps[client].sidKey === sidKey`), verified in the judging step before anything is written:
   * any other sid answers `missing` and touches nothing.
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
  /** Keys of the org's / user's sessions (possibly including ended ones not yet cleaned up). One read each (per shard on Redis Cluster). */
  keysOfOrg(org: string): Promise<string[]>;
  keysOfUser(user: string): Promise<string[]>;
  /**
   * The deadline index: keys of sessions whose next deadline (SSO or any live RP) is at or
   * before the shared clock's now, claimed atomically — each claimed key is hidden from other
   * claimers for `leaseMs`, so of many sweeping instances one handles it. Every write to a
   * session keeps its index entry current; ending a session removes it. `nextAt`: the index's
   * earliest entry after the claim (a deadline, or a claim's lease running out), read in the
   * same step; absent when the index is empty. The sweeper sleeps until then (at most its tick).
   * On Redis Cluster (one index per shard) a claim racing others may return fewer than are due;
   * `nextAt` is then already due, so the next claim comes at once and takes them.
   */
  claimDue(limit: number, leaseMs: number): Promise<{ keys: string[]; now: number; nextAt?: number }>;
  /**
   * For the operator's gauges, read in one atomic step (one Lua function in Redis; one per shard on Redis Cluster): SSO sessions not
   * yet ended (the deadline index), those whose next deadline has passed and are not claimed by
   * a sweeper, and the earliest such deadline. Never changes anything.
   */
  census(): Promise<QueueCensus & { live: number }>;
  /**
   * For the operator's gauge: RP sessions not yet ended (started, neither ended themselves nor
   * by their SSO session's end, nor replaced). A count kept by the very steps that start and end
   * RP sessions (in Redis, inside their functions), so it is one cheap read and never drifts from
   * them; a record left to expire unended (a day past its deadline, with no sweeper running)
   * would stay counted. One read (per shard on Redis Cluster).
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
 * one atomic step (one Lua function in Redis, one synchronous step in memory). Turning an entry
 * into logout tokens is logout's part of the outbox (src/logout/store.ts, LogoutOutbox).
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
  /** Done: the entry is gone. A no-op for an entry already gone. Atomic: the entry and its lease together. */
  complete(id: string): Promise<void>;
  /** One read. */
  get(id: string): Promise<EndedEntry | undefined>;
  /** How many entries are waiting (claimed or not). One read (per shard on Redis Cluster). */
  size(): Promise<number>;
}
