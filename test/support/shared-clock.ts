import { ManualClock } from '../../src/clock.ts';
import { openRedis, type RedisTarget } from '../../src/store/redis/connection.ts';
import { REDIS_URL } from './redis.ts';

/** The store's shared clock, set by a test: a ManualClock, or the pinned time of a Redis store. */
export interface SharedClock {
  now(): Promise<number>;
  set(epochMs: number): Promise<void>;
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

export function manualSharedClock(clock: ManualClock): SharedClock {
  return {
    now: async () => clock.now(),
    set: async (ms) => clock.set(ms),
    advance: async (ms) => clock.advance(ms),
    close: async () => {},
  };
}

/**
 * Pins `<prefix>clock:pinned` (see RedisStoreOptions.pinnableClock) at `start`, by default the
 * Redis server's own time; never at a fixed date. The store gives Redis relative TTLs only, so
 * a pinned time far from the server's clock must work too (test/store/redis.test.ts shows it).
 */
export async function redisSharedClock(prefix: string, start?: number, target: string | RedisTarget = REDIS_URL): Promise<SharedClock> {
  // Through the store's own connection factory: behind Sentinel, the pin follows the primary.
  const redis = openRedis(typeof target === 'string' ? { url: target } : target);
  // A test may restart its Redis: commands fail and are retried; the connection reconnects.
  redis.on('error', () => {});
  const key = `${prefix}clock:pinned`;
  const [seconds, micros] = await redis.time();
  await redis.set(key, String(start ?? Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)));
  return {
    now: async () => Number(await redis.get(key)),
    set: async (ms) => {
      await redis.set(key, String(ms));
    },
    advance: async (ms) => {
      await redis.incrby(key, ms);
    },
    close: async () => {
      redis.disconnect();
    },
  };
}
