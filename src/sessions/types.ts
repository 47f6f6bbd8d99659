import type { EndReason } from '../audit/types.ts';
import type { Deadlines, EpochMs } from './deadlines.ts';

export type { EndReason };

/** The part of an SSO session that belongs to one client (SPEC §3). */
export interface RpSession {
  client: string;
  /** The `sid` the client received in its ID tokens. */
  sid: string;
  /** Keyed hash of `sid`: the key of the sid → session index. */
  sidKey: string;
  /** The grant whose tokens die with this RP session. */
  grantId?: string;
  startedAt: EpochMs;
  lastActiveAt: EpochMs;
  /** Effective limits, computed when the session's inputs change, not on every request. */
  idleSeconds: number;
  absoluteSeconds: number;
  /**
   * Whether this client's refresh grants are activity (the org's value or a client rule's),
   * kept here like the limits so a refresh needs no policy lookup. Absent on records written
   * before client rules could say so: the SSO session's (org) value applies.
   */
  refreshIsActivity?: boolean;
  /**
   * The `warningAt` (shared-clock ms) of the last warning window a warning was recorded for:
   * `session.warned` is audited once per window (a moved deadline opens a new window).
   */
  warnedFor?: EpochMs;
  /**
   * Set when the RP session ended while its SSO session lives on. The tombstone keeps the RP
   * session dead — the client needs a fresh sign-in — until a new sign-in replaces it.
   */
  endedAt?: EpochMs;
}

/** One browser sign-in (SPEC §3). `id` is oidc-provider's session uid. */
export interface SsoSession {
  id: string;
  org: string;
  user: string;
  ip?: string;
  signedInAt: EpochMs;
  lastActiveAt: EpochMs;
  idleSeconds: number;
  absoluteSeconds: number;
  warningSeconds: number;
  /** The org's refreshIsActivity, kept here so a refresh needs no policy lookup. */
  refreshIsActivity: boolean;
  rps: Record<string, RpSession>;
  /**
   * The session's activity, counted by source (SPEC §10): a running count per kind of signal,
   * so the audit tells what kept a session alive without one event per click.
   */
  activity?: Partial<Record<ActivitySource, ActivityCount>>;
}

/** Where an active signal came from (SPEC §5). */
export const ACTIVITY_SOURCES = ['sign_in', 'authorize', 'refresh', 'rp_report', 'bearer', 'stay_signed_in'] as const;
export type ActivitySource = (typeof ACTIVITY_SOURCES)[number];

export interface ActivityCount {
  count: number;
  /** Shared-clock ms of the latest signal of this kind. */
  lastAt: EpochMs;
  /** The client of the latest signal of this kind, when it came from an RP. */
  lastClient?: string;
}

export type Liveness = 'alive' | 'dead' | 'missing';

/** What a check saw, at one instant of the shared clock. */
export interface SessionCheck {
  now: EpochMs;
  sso: Liveness;
  /** Only when a client was named. */
  rp?: Liveness;
  session?: SsoSession;
  /** Deadlines of the SSO session, or of the RP session when a client was named. */
  deadlines?: Deadlines;
}

export type Activity = 'active' | 'passive';

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
  /** Keyed hash of `sid`, for `SessionStore.checkBySid` (src/sessions/store.ts). */
  sidKey: string;
  grantId?: string;
  idleSeconds: number;
  absoluteSeconds: number;
  refreshIsActivity: boolean;
}

/** What the caller of an end says about it; the store adds what it saw (see {@link EndedEntry}). */
export interface Ending {
  /** The outbox entry's id (a fresh random id per end). */
  id: string;
  reason: EndReason;
  /** Shared-clock ms of the deadline that ended it (timeouts). */
  deadlineAt?: number;
  /** The entry stays the ending caller's for this long before a worker may take it over. */
  leaseMs: number;
}

/** The outbox entry of an end a sign-in may cause by replacing a session (reason judged by the store). */
export type ReplacedEnding = Pick<Ending, 'id' | 'leaseMs'>;

/**
 * One session end, recorded in the store with the end itself (transactional outbox): what a
 * worker must still do for it — queue its logout tokens, require step-up, audit it. It stays
 * until `EndedOutbox.complete`; a worker that dies leaves it to the next after its lease.
 */
export interface EndedEntry {
  id: string;
  reason: EndReason;
  /** `sso`: the whole browser session ended; `rp`: one client's RP session only. */
  scope: 'sso' | 'rp';
  /** The session as it was when it ended. */
  session: SsoSession;
  /** The RP sessions that ended (those of an SSO end not already ended on their own). */
  rps: RpSession[];
  deadlineAt?: number;
  /** Shared-clock ms of the end. */
  endedAt: number;
  /** True once its deliveries were queued (`EndedOutbox.queueDeliveries`). */
  queued: boolean;
}
