import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStore } from '../../src/store/redis/index.ts';
import type { Store } from '../../src/store/types.ts';
import { deletePrefix, freshPrefix, REDIS_URL } from '../support/redis.ts';
import { describeStoreContract } from './contract/index.ts';
import { redisSharedClock } from '../support/shared-clock.ts';
import { freePort } from '../support/process.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { until } from '../support/wait.ts';

/** A Redis store under a fresh prefix, its shared clock pinned from Redis' own time. */
async function pinnedRedis(label: string, options: { clusterKeysOnOneServer?: boolean; shards?: number } = {}) {
  const prefix = freshPrefix(label);
  const store = createRedisStore({ url: REDIS_URL, prefix, pinnableClock: true, ...options });
  await store.ping();
  const clock = await redisSharedClock(prefix);
  return {
    store,
    clock,
    async cleanup() {
      await clock.close();
      await store.close();
      await deletePrefix(prefix);
    },
  };
}

// No skip on a missing Redis: `ping()` rejects in `make`, and every test of the suite fails.
// The shared clock is pinned from Redis' own time: a memory suite's start date is ignored.
describeStoreContract('redis', async () => ({ ...(await pinnedRedis('contract')), modelTtlsInRealTime: true }));
// The cluster key schema on this one server: every queue sharded (4 shards, so a handful of
// sessions already spans several) and gathered, the cluster's split steps taken — without a
// cluster. test/store/redis-cluster.test.ts runs the suite on a real one.
describeStoreContract('redis, cluster key schema', async () => ({ ...(await pinnedRedis('contract-sharded', { clusterKeysOnOneServer: true, shards: 4 })), modelTtlsInRealTime: true }));

describe('Redis store specifics', () => {
  let prefix: string;
  let store: Store;
  let redis: Redis;
  const keys = () => redis.keys(`${prefix}*`);
  beforeEach(async () => {
    prefix = freshPrefix('redis');
    store = createRedisStore({ url: REDIS_URL, prefix });
    redis = new Redis(REDIS_URL);
    await store.ping();
  });
  afterEach(async () => {
    redis.disconnect();
    await store.close();
    await deletePrefix(prefix);
  });

  it('gives every expiring key a TTL: records, indexes and grant sets', async () => {
    await store.models.upsert('RefreshToken', 'r1', { grantId: 'g' }, 3600, { uid: 'u', grantId: 'g' });
    await store.models.upsert('AccessToken', 'a1', { grantId: 'g' }, 60, { grantId: 'g' });
    await store.models.upsert('DeviceCode', 'd1', {}, 600, { userCode: 'uc' });
    expect((await keys()).sort()).toEqual(
      [`${prefix}m:RefreshToken:r1`, `${prefix}m:RefreshToken:uid:u`, `${prefix}m:AccessToken:a1`, `${prefix}grant:g`, `${prefix}m:DeviceCode:d1`, `${prefix}m:DeviceCode:userCode:uc`].sort(),
    );
    for (const key of await keys()) expect(await redis.pttl(key), key).toBeGreaterThan(0);
    // The grant set lives as long as its longest member, and a shorter member never shortens it.
    expect(await redis.pttl(`${prefix}grant:g`)).toBeGreaterThan(3_500_000);
  });

  it('keeps every TTL when writing onto keys that just expired, and through consume', async () => {
    await store.models.upsert('AccessToken', 'a1', { grantId: 'g' }, 0.001, { uid: 'u', grantId: 'g' });
    await sleep(20);
    await store.models.upsert('AccessToken', 'a1', { grantId: 'g' }, 60, { uid: 'u', grantId: 'g' });
    await store.models.consume('AccessToken', 'a1', 1_700_000_000);
    expect(await keys()).toHaveLength(3);
    for (const key of await keys()) {
      const ttl = await redis.pttl(key);
      expect(ttl, key).toBeGreaterThan(55_000);
      expect(ttl, key).toBeLessThanOrEqual(60_000);
    }
  });

  it('keeps records without a TTL, and their grant set, forever', async () => {
    await store.models.upsert('AccessToken', 'a1', {}, 60, { grantId: 'g' });
    await store.models.upsert('Grant', 'g1', {}, undefined, { grantId: 'g' });
    expect(await redis.pttl(`${prefix}m:Grant:g1`)).toBe(-1);
    expect(await redis.pttl(`${prefix}grant:g`)).toBe(-1);
    await store.models.upsert('AccessToken', 'a2', {}, 60, { grantId: 'g' });
    expect(await redis.pttl(`${prefix}grant:g`)).toBe(-1);
  });

  it('puts every key under the prefix, rate limiter and audit included', async () => {
    await store.rateLimiter({ name: 'login', points: 5, durationSeconds: 60, blockSeconds: 60 }).reserve('k');
    await store.audit.append({ type: 'login.failed', org: 'acme' });
    await store.audit.append({ type: 'login.failed' });
    await store.secrets.getOrCreate('cookie', () => 'v');
    const found = await keys();
    expect(found).toEqual(expect.arrayContaining([`${prefix}audit:acme`, `${prefix}audit:_`, `${prefix}secret:cookie`]));
    expect(found.some((k) => k.startsWith(`${prefix}attempts:login`))).toBe(true);
    expect(await redis.pttl(`${prefix}secret:cookie`)).toBe(-1);
  });

  it('stamps audit events with the pinned shared clock, ids still ordered when it steps back', async () => {
    const pinned = createRedisStore({ url: REDIS_URL, prefix, pinnableClock: true });
    try {
      // A year ahead of the server's own time: stream ids follow the shared clock, not TIME.
      const [seconds] = await redis.time();
      const t = Number(seconds) * 1000 + 365 * 86_400_000;
      await redis.set(`${prefix}clock:pinned`, String(t));
      const a = await pinned.audit.append({ type: 'login.failed', org: 'acme' });
      expect(a.at).toBe(new Date(t).toISOString());
      await redis.set(`${prefix}clock:pinned`, String(t - 60_000));
      const b = await pinned.audit.append({ type: 'login.failed', org: 'acme' });
      expect(b.id).toBe(`${t}-1`);
      expect((await pinned.audit.query({ org: 'acme', limit: 5 })).items.map((e) => e.id)).toEqual([b.id, a.id]);
    } finally {
      await pinned.close();
    }
  });

  it('keeps a session written under a clock pinned a year back readable until its deadline, as that clock sees it', async () => {
    const pinned = createRedisStore({ url: REDIS_URL, prefix, pinnableClock: true });
    const clock = await redisSharedClock(prefix);
    try {
      const yearAgo = (await clock.now()) - 365 * 86_400_000;
      await clock.set(yearAgo);
      const input = { id: 'uid-1', org: 'acme', user: 'usr_a', idleSeconds: 900, absoluteSeconds: 3600, warningSeconds: 120, refreshIsActivity: false };
      await pinned.sessions.login('k1', input, { id: 'end-1', leaseMs: 1_000 });
      await pinned.sessions.addRp('k1', { client: 'wiki', sid: 'sid-1', sidKey: 'hsid-1', idleSeconds: 900, absoluteSeconds: 3600, refreshIsActivity: false }, { id: 'end-2', leaseMs: 1_000 });
      // The keys' TTLs are relative to the clock that computed them: a day past the deadline.
      for (const key of await keys()) {
        // Store-wide keys (the pin, the deadline index, the index sets, the live RP-session count) never expire.
        if (key.endsWith('clock:pinned') || key.endsWith('deadlines') || key.endsWith(':sessions') || key.endsWith('rps:live')) continue;
        expect(await redis.pttl(key), key).toBeGreaterThan(900_000 + 86_400_000 - 5_000);
      }
      await clock.set(yearAgo + 900_000 - 1);
      expect(await pinned.sessions.checkBySid('hsid-1', 'wiki', 'passive')).toMatchObject({ sso: 'alive', rp: 'alive' });
      await clock.set(yearAgo + 900_000);
      const dead = await pinned.sessions.checkBySid('hsid-1', 'wiki', 'passive');
      expect(dead).toMatchObject({ sso: 'dead', rp: 'dead', session: { id: 'uid-1' } });
      expect(await pinned.sessions.get('k1')).toMatchObject({ id: 'uid-1', signedInAt: yearAgo });
    } finally {
      await clock.close();
      await pinned.close();
    }
  });

  it('keeps a session record readable for redis.sessionRetainSeconds past its absolute deadline, then lets Redis drop it', async () => {
    const retaining = createRedisStore({ url: REDIS_URL, prefix, pinnableClock: true, sessionRetainMs: 5_000 });
    const clock = await redisSharedClock(prefix);
    try {
      const start = await clock.now();
      const input = { id: 'uid-1', org: 'acme', user: 'usr_a', idleSeconds: 60, absoluteSeconds: 120, warningSeconds: 10, refreshIsActivity: false };
      await retaining.sessions.login('k1', input, { id: 'end-1', leaseMs: 1_000 });
      // Relative to the shared clock: the absolute deadline (120 s) plus the 5 s retention.
      const ttl = await redis.pttl(`${prefix}sso:k1`);
      expect(ttl).toBeGreaterThan(125_000 - 2_000);
      expect(ttl).toBeLessThanOrEqual(125_000);
      // Past its absolute deadline, a write keeps it only for the retention.
      await clock.set(start + 200_000);
      expect(await retaining.sessions.check('k1', undefined, 'passive')).toMatchObject({ sso: 'dead' });
      await retaining.sessions.setLimits('k1', { idleSeconds: 60, absoluteSeconds: 120, warningSeconds: 10, refreshIsActivity: false, rps: {} });
      const after = await redis.pttl(`${prefix}sso:k1`);
      expect(after).toBeGreaterThan(5_000 - 2_000);
      expect(after).toBeLessThanOrEqual(5_000);
    } finally {
      await clock.close();
      await retaining.close();
    }
  });

  it('keeps an RP session\'s sid key as long as its session record when a policy change lengthens the absolute limit', async () => {
    const pinned = createRedisStore({ url: REDIS_URL, prefix, pinnableClock: true, sessionRetainMs: 60_000 });
    const clock = await redisSharedClock(prefix);
    try {
      const input = { id: 'uid-1', org: 'acme', user: 'usr_a', idleSeconds: 600, absoluteSeconds: 3600, warningSeconds: 60, refreshIsActivity: false };
      await pinned.sessions.login('k1', input, { id: 'end-1', leaseMs: 1_000 });
      await pinned.sessions.addRp('k1', { client: 'wiki', sid: 'sid-1', sidKey: 'hsid-1', idleSeconds: 600, absoluteSeconds: 3600, refreshIsActivity: false }, { id: 'end-2', leaseMs: 1_000 });
      expect(await redis.pttl(`${prefix}sid:hsid-1`)).toBeLessThanOrEqual(3_600_000 + 60_000);
      // Three days instead of an hour, for the session and the RP session.
      const days = 3 * 86_400;
      await pinned.sessions.setLimits('k1', { idleSeconds: 600, absoluteSeconds: days, warningSeconds: 60, refreshIsActivity: false, rps: { wiki: { idleSeconds: 600, absoluteSeconds: days, refreshIsActivity: false } } });
      const record = await redis.pttl(`${prefix}sso:k1`);
      const sid = await redis.pttl(`${prefix}sid:hsid-1`);
      expect(record).toBeGreaterThan(days * 1000);
      expect(sid).toBeGreaterThan(days * 1000);
      expect(Math.abs(record - sid)).toBeLessThan(2_000);
      expect(await pinned.sessions.checkBySid('hsid-1', 'wiki', 'passive')).toMatchObject({ sso: 'alive', rp: 'alive' });
    } finally {
      await clock.close();
      await pinned.close();
    }
  });

  it('fails fast, not forever, when Redis is unreachable', async () => {
    const dead = createRedisStore({ url: 'redis://127.0.0.1:1', prefix: 'x:' });
    const started = Date.now();
    await expect(dead.ping()).rejects.toThrow();
    await expect(dead.models.find('Session', 'x')).rejects.toThrow();
    await expect(dead.rateLimiter({ name: 'n', points: 1, durationSeconds: 1, blockSeconds: 1 }).reserve('k')).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(10_000);
    await dead.close();
  });
});

describe('Redis change feed across a dropped connection', () => {
  /**
   * A store reaching Redis through a loopback proxy — listening now, or (given a free `port`)
   * once the test starts it there — and a subscription recording what its feed says.
   */
  async function feedThroughProxy(port?: number) {
    const upstream = new URL(REDIS_URL);
    const proxy = new TcpProxy({ host: upstream.hostname, port: Number(upstream.port || 6379) });
    const url = new URL(REDIS_URL);
    url.host = `127.0.0.1:${port ?? (await proxy.start())}`;
    const prefix = freshPrefix('changes');
    const store = createRedisStore({ url: url.href, prefix });
    const heard: unknown[] = [];
    const subscription = await store.changes.subscribe({ changed: (c) => heard.push(c), reset: (live) => heard.push({ reset: live }) });
    return {
      proxy, store, heard,
      async close() {
        await subscription.close();
        await store.close();
        await proxy.close();
        await deletePrefix(prefix);
      },
    };
  }

  it('says the feed dropped, then that it is live again once re-subscribed; changes are heard again after', async () => {
    const { proxy, store, heard, close } = await feedThroughProxy();
    try {
      expect(heard).toEqual([{ reset: true }]);
      proxy.drop();
      // A change published while the feed is down is missed: the resets say so, which is what a cache acts on.
      await until('the drop, then live again', async () => heard.length >= 3);
      expect(heard).toEqual([{ reset: true }, { reset: false }, { reset: true }]);
      await store.changes.publish({ kind: 'client', id: 'app1' });
      await until('the change after the reconnect', async () => heard.length >= 4);
      expect(heard[3]).toEqual({ kind: 'client', id: 'app1' });
    } finally {
      await close();
    }
  });

  it('subscribing while Redis is unreachable hands out a feed that is not live, which goes live once Redis answers', async () => {
    // A port nothing listens on yet: the store's connections are refused until the proxy takes it.
    const port = await freePort();
    const { proxy, store, heard, close } = await feedThroughProxy(port);
    try {
      expect(heard).toEqual([]);
      await proxy.start(port);
      await until('live once Redis answers', async () => heard.length >= 1);
      expect(heard).toEqual([{ reset: true }]);
      await store.changes.publish({ kind: 'org', id: 'acme' });
      await until('the change heard', async () => heard.length >= 2);
      expect(heard[1]).toEqual({ kind: 'org', id: 'acme' });
    } finally {
      await close();
    }
  });

  it('a message on the channel that is not a change resets the listener: a misread change never passes as none', async () => {
    const prefix = freshPrefix('changes');
    const store = createRedisStore({ url: REDIS_URL, prefix });
    const other = new Redis(REDIS_URL);
    const heard: unknown[] = [];
    const subscription = await store.changes.subscribe({ changed: (c) => heard.push(c), reset: (live) => heard.push({ reset: live }) });
    try {
      await other.publish(`${prefix}changes`, 'not json');
      await other.publish(`${prefix}changes`, JSON.stringify({ kind: 'session', id: 'x' }));
      await until('both heard', async () => heard.length >= 3);
      expect(heard).toEqual([{ reset: true }, { reset: true }, { reset: true }]);
    } finally {
      other.disconnect();
      await subscription.close();
      await store.close();
      await deletePrefix(prefix);
    }
  });
});
