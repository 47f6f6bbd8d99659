import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimiter, RateLimitOptions, RateLimitState } from './types.ts';

type FlexibleLimiter = Pick<RateLimiterAbstract, 'get' | 'consume' | 'delete' | 'block'>;

/**
 * Wraps a rate-limiter-flexible limiter (memory or Redis) into Curfew's plain state.
 * `points` failures are allowed: the failure that spends the last point starts the block at
 * once, so the very next attempt is refused for the whole block, not only until the window
 * ends. `check` reads without consuming. The limiter library keeps its own time (the local
 * clock for memory, Redis for Redis), not the store's injected clock.
 */
export function wrapLimiter(limiter: FlexibleLimiter, options: RateLimitOptions): RateLimiter {
  const state = (res: RateLimiterRes | null): RateLimitState => {
    const blocked = res !== null && res.consumedPoints >= options.points;
    return { blocked, retryAfterSeconds: blocked ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 0 };
  };
  return {
    async check(key) {
      return state(await limiter.get(key));
    },
    async fail(key) {
      let res: RateLimiterRes;
      try {
        res = await limiter.consume(key);
      } catch (rejection) {
        // Out of points is an answer, not a failure; anything else (Redis down) is.
        if (rejection instanceof RateLimiterRes) return state(rejection);
        throw rejection;
      }
      if (res.consumedPoints >= options.points) return state(await limiter.block(key, options.blockSeconds));
      return state(res);
    },
    async reset(key) {
      await limiter.delete(key);
    },
  };
}
