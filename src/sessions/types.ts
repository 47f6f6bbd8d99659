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
