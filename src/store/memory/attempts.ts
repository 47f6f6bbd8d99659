import type { Clock } from '../../clock.ts';
import type { RateLimiter, RateLimitOptions, RateLimitState } from '../types.ts';

interface Counter {
  /** Attempts reserved and not refunded. */
  n: number;
  /** Shared-clock ms at which the window (or the block) ends and the counter is forgotten. */
  until: number;
}

const retryAfter = (until: number, now: number) => Math.max(1, Math.ceil((until - now) / 1000));

/**
 * The memory store's attempt limiters (see {@link RateLimiter}). Each method runs without an
 * await, so it is one atomic step within the process; time is the store's injected clock.
 */
export function createMemoryAttempts(clock: Clock) {
  const counters = new Map<string, Counter>();

  const live = (key: string, now: number): Counter | undefined => {
    const c = counters.get(key);
    if (c && c.until <= now) {
      counters.delete(key);
      return undefined;
    }
    return c;
  };

  return {
    limiter(o: RateLimitOptions): RateLimiter {
      const id = (key: string) => `${o.name}\u0000${key}`;
      const state = (c: Counter | undefined, now: number): RateLimitState =>
        c && c.n >= o.points ? { blocked: true, retryAfterSeconds: retryAfter(c.until, now) } : { blocked: false, retryAfterSeconds: 0 };
      return {
        async check(key) {
          const now = clock.now();
          return state(live(id(key), now), now);
        },
        async reserve(key) {
          const now = clock.now();
          const c = live(id(key), now) ?? { n: 0, until: now + o.durationSeconds * 1000 };
          if (c.n >= o.points) return { granted: false, retryAfterSeconds: retryAfter(c.until, now) };
          c.n += 1;
          if (c.n >= o.points) c.until = now + o.blockSeconds * 1000;
          counters.set(id(key), c);
          return { granted: true, last: c.n >= o.points };
        },
        async refund(key) {
          const c = live(id(key), clock.now());
          if (!c) return;
          c.n -= 1;
          if (c.n <= 0) counters.delete(id(key));
        },
        async reset(key) {
          counters.delete(id(key));
        },
      };
    },
    /** Drops counters whose window or block has ended. */
    purge() {
      const now = clock.now();
      for (const [key, c] of counters) if (c.until <= now) counters.delete(key);
    },
  };
}
