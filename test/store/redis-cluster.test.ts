import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../../src/store/redis/index.ts';
import { LIBRARY } from '../../src/store/redis/library.ts';
import { freshPrefix } from '../support/redis.ts';
import { RedisCluster } from '../support/redis-cluster.ts';
import { redisSharedClock } from '../support/shared-clock.ts';
import { describeStoreContract } from './contract/index.ts';

/**
 * The whole store contract on a real three-primary Redis Cluster this file starts (Debian's
 * redis-server on loopback), with the cluster key schema: a CROSSSLOT anywhere fails a test.
 */
const cluster = new RedisCluster();
beforeAll(async () => {
  await cluster.start();
}, 30_000);
afterAll(async () => {
  await cluster.close();
});

async function onCluster(label: string) {
  const prefix = freshPrefix(label);
  const store = createRedisStore({ ...cluster.target, prefix, pinnableClock: true });
  await store.ping();
  const clock = await redisSharedClock(prefix, undefined, cluster.target);
  return {
    prefix,
    store,
    clock,
    modelTtlsInRealTime: true,
    async cleanup() {
      await clock.close();
      await store.close();
      await cluster.deletePrefix(prefix);
    },
  };
}

describeStoreContract('redis cluster', () => onCluster('cluster-contract'));

describe('Redis Cluster specifics', () => {
  it('spreads sessions over the primaries, loads the library on each, and reloads it where it went missing', async () => {
    const s = await onCluster('cluster-spread');
    try {
      const input = (i: number) => ({ id: `uid-${i}`, org: 'acme', user: `usr_${i}`, idleSeconds: 900, absoluteSeconds: 3600, warningSeconds: 60, refreshIsActivity: false });
      for (let i = 0; i < 24; i++) await s.store.sessions.login(`key-${i}`, input(i), { id: s.store.sessions.endingId(`key-${i}`), leaseMs: 1_000 });
      const holding = [];
      for (const p of cluster.primaries) if ((await cluster.keysOn(p, s.prefix)).some((k) => k.includes('sso:'))) holding.push(p.port);
      expect(holding.length).toBeGreaterThanOrEqual(2);
      for (const p of cluster.primaries) expect(await cluster.hasLibrary(p, LIBRARY)).toBe(true);
      // A primary that lost its functions (FUNCTION FLUSH) gets them back from the first call that misses.
      await cluster.flushFunctions(cluster.primaries[1]!);
      for (let i = 0; i < 24; i++) expect((await s.store.sessions.check(`key-${i}`, undefined, 'passive')).sso).toBe('alive');
      expect(await cluster.hasLibrary(cluster.primaries[1]!, LIBRARY)).toBe(true);
      expect((await s.store.sessions.census()).size).toBe(24);
    } finally {
      await s.cleanup();
    }
  });
});
