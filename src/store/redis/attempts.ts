import type { Redis } from 'ioredis';
import { NOW_MS_LUA } from './sessions.ts';
import type { RateLimiter, RateLimitOptions, RateLimitState } from '../types.ts';

/**
 * One attempt counter, judged and changed in one script by the shared clock. The hash holds
 * `n` (attempts reserved and not refunded) and `until` (shared-clock ms at which the window or
 * block ends). `until` decides, not the key's TTL: a pinned (test) clock may run ahead of Redis'
 * own; the relative PEXPIRE only cleans up.
 * KEYS: counter, pin  ARGV: op ('check'|'reserve'|'refund'), points, windowMs, blockMs
 * Returns { blocked|granted (0/1), msLeft, last (0/1) }.
 */
const ATTEMPT = `${NOW_MS_LUA}
local now = now_ms(KEYS[2])
local points = tonumber(ARGV[2])
local n, untilMs = 0, 0
local saved = redis.call('HMGET', KEYS[1], 'n', 'until')
if saved[1] and tonumber(saved[2]) > now then
  n = tonumber(saved[1])
  untilMs = tonumber(saved[2])
end
local op = ARGV[1]
if op == 'check' then
  if n >= points then return { 1, untilMs - now, 0 } end
  return { 0, 0, 0 }
end
if op == 'refund' then
  if n <= 1 then
    redis.call('DEL', KEYS[1])
  else
    redis.call('HSET', KEYS[1], 'n', n - 1)
  end
  return { 0, 0, 0 }
end
if n >= points then return { 0, untilMs - now, 0 } end
if n == 0 then untilMs = now + tonumber(ARGV[3]) end
n = n + 1
if n >= points then untilMs = now + tonumber(ARGV[4]) end
redis.call('HSET', KEYS[1], 'n', n, 'until', untilMs)
redis.call('PEXPIRE', KEYS[1], math.max(1, untilMs - now))
if n >= points then return { 1, untilMs - now, 1 } end
return { 1, untilMs - now, 0 }`;

type AttemptRedis = Redis & {
  curfewAttempt(key: string, pin: string, op: string, points: number, windowMs: number, blockMs: number): Promise<[number, number, number]>;
};

const retryAfter = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** The Redis store's attempt limiters (see {@link RateLimiter}): every method is one script. */
export function createRedisAttempts(redis: Redis, p: string, pinKey: string) {
  const r = redis as AttemptRedis;
  r.defineCommand('curfewAttempt', { numberOfKeys: 2, lua: ATTEMPT });
  return (o: RateLimitOptions): RateLimiter => {
    const key = (k: string) => `${p}attempts:${o.name}:${k}`;
    const run = (k: string, op: 'check' | 'reserve' | 'refund') =>
      r.curfewAttempt(key(k), pinKey, op, o.points, o.durationSeconds * 1000, o.blockSeconds * 1000);
    return {
      async check(k): Promise<RateLimitState> {
        const [blocked, ms] = await run(k, 'check');
        return blocked === 1 ? { blocked: true, retryAfterSeconds: retryAfter(ms) } : { blocked: false, retryAfterSeconds: 0 };
      },
      async reserve(k) {
        const [granted, ms, last] = await run(k, 'reserve');
        return granted === 1 ? { granted: true, last: last === 1 } : { granted: false, retryAfterSeconds: retryAfter(ms) };
      },
      async refund(k) {
        await run(k, 'refund');
      },
      async reset(k) {
        await redis.del(key(k));
      },
    };
  };
}
