import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createRedisStore } from '../../src/store/redis.ts';
import { deletePrefix, freshPrefix, REDIS_URL } from '../support/redis.ts';
import { describeStoreContract } from './store-contract.ts';
import { describeSessionContract } from './session-contract.ts';
import { redisSharedClock } from '../support/shared-clock.ts';

// Redis expires keys by its own clock: the TTL tests let up to ~1.2 s of real time pass.
describeStoreContract('redis', async () => {
  const prefix = freshPrefix('contract');
  const store = createRedisStore({ url: REDIS_URL, prefix });
  await store.ping();
  return {
    store,
    advance: (ms) => sleep(ms),
    async cleanup() {
      await store.close();
      await deletePrefix(prefix);
    },
  };
});

describeSessionContract('redis', async () => {
  const prefix = freshPrefix('sessions');
  const store = createRedisStore({ url: REDIS_URL, prefix, pinnableClock: true });
  const clock = await redisSharedClock(prefix, Date.UTC(2026, 10, 22, 9));
  return {
    store,
    clock,
    async cleanup() {
      await clock.close();
      await store.close();
      await deletePrefix(prefix);
    },
  };
});

describe('Redis store specifics', () => {
  it('gives every expiring key a TTL: records, indexes and grant sets', async () => {
    const prefix = freshPrefix('ttl');
    const store = createRedisStore({ url: REDIS_URL, prefix });
    const redis = new Redis(REDIS_URL);
    try {
      await store.models.upsert('RefreshToken', 'r1', { grantId: 'g' }, 3600, { uid: 'u', grantId: 'g' });
      await store.models.upsert('AccessToken', 'a1', { grantId: 'g' }, 60, { grantId: 'g' });
      const keys = await redis.keys(`${prefix}*`);
      expect(keys.length).toBe(4);
      for (const key of keys) expect(await redis.pttl(key), key).toBeGreaterThan(0);
      // The grant set lives as long as its longest member.
      expect(await redis.pttl(`${prefix}grant:g`)).toBeGreaterThan(3_500_000);
    } finally {
      redis.disconnect();
      await store.close();
      await deletePrefix(prefix);
    }
  });

  it('fails fast, not forever, when Redis is unreachable', async () => {
    const store = createRedisStore({ url: 'redis://127.0.0.1:1', prefix: 'x:' });
    const started = Date.now();
    await expect(store.ping()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(10_000);
    await store.close();
  });
});
