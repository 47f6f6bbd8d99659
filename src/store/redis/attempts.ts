import type { RateLimiter, RateLimitOptions, RateLimitState } from '../types.ts';
import { decode, int, ReplyShapeError, type Decoder } from './decode.ts';
import type { KeySchema } from './keys.ts';
import type { FunctionCall } from './library.ts';
import type { RedisClient } from './connection.ts';

const retryAfter = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** The `attempt` function's reply: { blocked|granted (0/1), msLeft, last (0/1) }. */
const attemptReply: Decoder<[number, number, number]> = (v, path) => {
  if (!Array.isArray(v) || v.length !== 3) throw new ReplyShapeError(path, 'three integers', v);
  return [int(v[0], `${path}[0]`), int(v[1], `${path}[1]`), int(v[2], `${path}[2]`)];
};

/** The Redis store's attempt limiters (see {@link RateLimiter}): every method is one function call (lua/attempts.lua). */
export function createRedisAttempts(redis: RedisClient, fn: FunctionCall, k: KeySchema) {
  return (o: RateLimitOptions): RateLimiter => {
    const run = async (key: string, op: 'check' | 'reserve' | 'refund') =>
      decode(attemptReply, await fn('attempt', [k.attempts(o.name, key)], [op, o.points, o.durationSeconds * 1000, o.blockSeconds * 1000]), 'attempt');
    return {
      async check(key): Promise<RateLimitState> {
        const [blocked, ms] = await run(key, 'check');
        return blocked === 1 ? { blocked: true, retryAfterSeconds: retryAfter(ms) } : { blocked: false, retryAfterSeconds: 0 };
      },
      async reserve(key) {
        const [granted, ms, last] = await run(key, 'reserve');
        return granted === 1 ? { granted: true, last: last === 1 } : { granted: false, retryAfterSeconds: retryAfter(ms) };
      },
      async refund(key) {
        await run(key, 'refund');
      },
      async reset(key) {
        await redis.del(k.attempts(o.name, key));
      },
    };
  };
}
