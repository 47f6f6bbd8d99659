import type { Context } from 'koa';

/** An RP session found alive while the library loaded one of its tokens. */
export interface RpSessionFound {
  sessionUid: string;
  clientId: string;
  /** Shared-clock ms the RP session ends at, and the shared clock's now when it was judged. */
  expiresAt: number;
  now: number;
  /** The client's own value (a client rule may override the org's). */
  refreshIsActivity: boolean;
}

/** A code the library saved in this request: its RP session is recorded before the response leaves. */
export interface CodeIssued {
  sessionUid: string;
  clientId: string;
  grantId?: string;
  sid?: string;
}

/**
 * What one request's enforcement steps learned that a later step of the same request needs:
 * the library's TTL functions are synchronous, and the after-response steps should not judge
 * again what a step already judged.
 */
export interface EnforcementState {
  /** Set by bind-token-to-rp-session; read by cap-access-token-ttl and refresh-activity. */
  rpSession?: RpSessionFound;
  /** Set by judge-sso-session when the client's RP session is alive; read by record-rp-session. */
  rpAlive?: { sessionUid: string; clientId: string };
  /** Set by judge-sso-session: its activity count, stored while the request goes on; awaited by await-activity-count. */
  activityCounted?: Promise<void>;
  /** Set by note-code-issued; read by record-sign-in and record-rp-session. */
  codeIssued?: CodeIssued;
}

// Keyed by the request itself: nothing outlives it, nothing is shared between requests.
const states = new WeakMap<Context, EnforcementState>();

/** The enforcement state of this request (created empty on first use). */
export function enforcementState(ctx: Context): EnforcementState {
  let state = states.get(ctx);
  if (!state) {
    state = {};
    states.set(ctx, state);
  }
  return state;
}
