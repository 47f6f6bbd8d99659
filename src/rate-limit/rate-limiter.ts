/*
 * The rate limiter's interface, kept apart from the store that implements it (src/store) and from
 * the domains that use it (accounts, mfa, sessions), so none of them imports the others for it.
 */

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
