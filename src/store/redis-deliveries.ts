import type { Redis } from 'ioredis';
import type { Delivery, DeliveryState, DeliveryStore } from './types.ts';

/**
 * KEYS: pin, due  ARGV: limit, leaseMs, prefix. Takes due deliveries and hides them for a lease
 * in one step: concurrent workers never share one, a dead worker's reappear after the lease.
 */
const CLAIM = `
local now
local pinned = KEYS[1] ~= '' and redis.call('GET', KEYS[1])
if pinned then now = tonumber(pinned) else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), id)
  local raw = redis.call('GET', ARGV[3] .. 'delivery:' .. id)
  if raw then table.insert(out, raw) else redis.call('ZREM', KEYS[2], id) end
end
return { tostring(now), unpack(out) }`;

type DeliveryRedis = Redis & { curfewClaimDeliveries(pin: string, due: string, limit: string, lease: string, prefix: string): Promise<string[]> };

export function createRedisDeliveries(redis: Redis, p: string, pinKey: string, sharedNow: () => Promise<number>): DeliveryStore {
  const r = redis as DeliveryRedis;
  r.defineCommand('curfewClaimDeliveries', { numberOfKeys: 2, lua: CLAIM });
  const due = `${p}deliveries:due`;
  const rec = (id: string) => `${p}delivery:${id}`;
  const set = (org: string, state: DeliveryState) => `${p}org:${org}:deliveries:${state}`;
  const load = async (id: string) => {
    const raw = await redis.get(rec(id));
    return raw === null ? undefined : (JSON.parse(raw) as Delivery);
  };

  return {
    async enqueue(deliveries) {
      if (!deliveries.length) return;
      const tx = redis.multi();
      for (const d of deliveries) {
        tx.set(rec(d.id), JSON.stringify(d)).zadd(due, d.nextAttemptAt, d.id).sadd(set(d.org, 'pending'), d.id);
      }
      await tx.exec();
    },
    async claim(limit, leaseMs) {
      const [now, ...raws] = await r.curfewClaimDeliveries(pinKey, due, String(limit), String(leaseMs), p);
      return { now: Number(now), deliveries: raws.map((raw) => JSON.parse(raw) as Delivery) };
    },
    async complete(id) {
      const d = await load(id);
      const tx = redis.multi().del(rec(id)).zrem(due, id);
      if (d) tx.srem(set(d.org, 'pending'), id);
      await tx.exec();
    },
    async retryLater(id, attempts, nextAttemptAt, error) {
      const d = await load(id);
      if (!d) return;
      await redis.multi().set(rec(id), JSON.stringify({ ...d, attempts, nextAttemptAt, lastError: error })).zadd(due, nextAttemptAt, id).exec();
    },
    async bury(id, attempts, error) {
      const d = await load(id);
      if (!d) return;
      await redis
        .multi()
        .set(rec(id), JSON.stringify({ ...d, attempts, state: 'dead', lastError: error }))
        .zrem(due, id)
        .srem(set(d.org, 'pending'), id)
        .sadd(set(d.org, 'dead'), id)
        .exec();
    },
    get: load,
    async list(org, state) {
      const ids = await redis.smembers(set(org, state));
      if (!ids.length) return [];
      const raws = await redis.mget(...ids.map(rec));
      return raws.flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as Delivery])).sort((a, b) => a.enqueuedAt - b.enqueuedAt);
    },
    async revive(id) {
      const d = await load(id);
      if (!d || d.state !== 'dead') return false;
      const now = await sharedNow();
      await redis
        .multi()
        .set(rec(id), JSON.stringify({ ...d, state: 'pending', nextAttemptAt: now }))
        .zadd(due, now, id)
        .srem(set(d.org, 'dead'), id)
        .sadd(set(d.org, 'pending'), id)
        .exec();
      return true;
    },
  };
}
