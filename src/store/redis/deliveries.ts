import type { Redis } from 'ioredis';
import { NOW_MS_LUA, QUEUE_CENSUS, toCensus } from './sessions.ts';
import type { Delivery, DeliveryState, DeliveryStore } from '../types.ts';

/**
 * KEYS: pin, due  ARGV: limit, leaseMs, prefix. Takes due deliveries and hides them for a lease
 * in one step: concurrent workers never share one, a dead worker's reappear after the lease.
 */
const CLAIM = `${NOW_MS_LUA}
local now = now_ms(KEYS[1])
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), id)
  local raw = redis.call('GET', ARGV[3] .. 'delivery:' .. id)
  if raw then table.insert(out, raw) else redis.call('ZREM', KEYS[2], id) end
end
return { tostring(now), unpack(out) }`;

/**
 * A delivery's record changes state with its index entries in one script, so no update reads a
 * record and then writes it over another instance's change (a retry racing an admin's revive).
 * Delivery fields are scalars, so cjson's re-encoding is exact (ms timestamps have 13 digits).
 * Prelude: KEYS[1] the record, KEYS[2] the due index; ARGV[1] the id, ARGV[2] the prefix.
 */
const LOAD = `
local raw = redis.call('GET', KEYS[1])
local d = raw and cjson.decode(raw)
local function set_of(state) return ARGV[2] .. 'org:' .. d.org .. ':deliveries:' .. state end`;

/** Delivered: gone from the queue. Returns 1 if it was there. */
const COMPLETE = `${LOAD}
redis.call('ZREM', KEYS[2], ARGV[1])
if not d then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', set_of('pending'), ARGV[1])
return 1`;

/** ARGV[3] attempts, ARGV[4] nextAttemptAt, ARGV[5] error. Only a pending delivery is rescheduled. */
const RETRY_LATER = `${LOAD}
if not d or d.state ~= 'pending' then return 0 end
d.attempts = tonumber(ARGV[3])
d.nextAttemptAt = tonumber(ARGV[4])
d.lastError = ARGV[5]
redis.call('SET', KEYS[1], cjson.encode(d))
redis.call('ZADD', KEYS[2], d.nextAttemptAt, ARGV[1])
return 1`;

/** ARGV[3] attempts, ARGV[4] error. A pending delivery becomes a dead letter. */
const BURY = `${LOAD}
if not d or d.state ~= 'pending' then return 0 end
d.attempts = tonumber(ARGV[3])
d.state = 'dead'
d.lastError = ARGV[4]
redis.call('SET', KEYS[1], cjson.encode(d))
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SMOVE', set_of('pending'), set_of('dead'), ARGV[1])
redis.call('SADD', set_of('dead'), ARGV[1])
return 1`;

/**
 * KEYS[3] the pin key. A dead letter back into the queue, due now, with a fresh attempt budget:
 * an admin retry after the cause was fixed deserves the whole retry schedule, not one try.
 */
const REVIVE = `${LOAD}
${NOW_MS_LUA}
if not d or d.state ~= 'dead' then return 0 end
local now = now_ms(KEYS[3])
d.state = 'pending'
d.attempts = 0
d.nextAttemptAt = now
redis.call('SET', KEYS[1], cjson.encode(d))
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('SMOVE', set_of('dead'), set_of('pending'), ARGV[1])
redis.call('SADD', set_of('pending'), ARGV[1])
return 1`;

interface DeliveryScripts {
  curfewClaimDeliveries(pin: string, due: string, limit: string, lease: string, prefix: string): Promise<string[]>;
  curfewDeliveryComplete(rec: string, due: string, id: string, prefix: string): Promise<number>;
  curfewDeliveryRetryLater(rec: string, due: string, id: string, prefix: string, attempts: string, nextAttemptAt: string, error: string): Promise<number>;
  curfewDeliveryBury(rec: string, due: string, id: string, prefix: string, attempts: string, error: string): Promise<number>;
  curfewDeliveryRevive(rec: string, due: string, pin: string, id: string, prefix: string): Promise<number>;
  curfewDeliveryCensus(pin: string, due: string): Promise<[string, number, number, string[]]>;
}
type DeliveryRedis = Redis & DeliveryScripts;

export function createRedisDeliveries(redis: Redis, p: string, pinKey: string): DeliveryStore {
  const r = redis as DeliveryRedis;
  r.defineCommand('curfewClaimDeliveries', { numberOfKeys: 2, lua: CLAIM });
  r.defineCommand('curfewDeliveryComplete', { numberOfKeys: 2, lua: COMPLETE });
  r.defineCommand('curfewDeliveryRetryLater', { numberOfKeys: 2, lua: RETRY_LATER });
  r.defineCommand('curfewDeliveryBury', { numberOfKeys: 2, lua: BURY });
  r.defineCommand('curfewDeliveryRevive', { numberOfKeys: 3, lua: REVIVE });
  r.defineCommand('curfewDeliveryCensus', { numberOfKeys: 2, lua: QUEUE_CENSUS });
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
      await r.curfewDeliveryComplete(rec(id), due, id, p);
    },
    async retryLater(id, attempts, nextAttemptAt, error) {
      await r.curfewDeliveryRetryLater(rec(id), due, id, p, String(attempts), String(nextAttemptAt), error);
    },
    async bury(id, attempts, error) {
      await r.curfewDeliveryBury(rec(id), due, id, p, String(attempts), error);
    },
    get: load,
    async list(org, state) {
      const ids = await redis.smembers(set(org, state));
      if (!ids.length) return [];
      const raws = await redis.mget(...ids.map(rec));
      return raws.flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as Delivery])).sort((a, b) => a.enqueuedAt - b.enqueuedAt);
    },
    async census(orgs) {
      // The queue in one script; the dead letters (a set per org) in one pipeline after it.
      const queue = toCensus(await r.curfewDeliveryCensus(pinKey, due));
      const pipeline = redis.pipeline();
      for (const org of orgs) pipeline.scard(set(org, 'dead'));
      const counts = orgs.length ? ((await pipeline.exec()) ?? []) : [];
      let dead = 0;
      for (const [error, count] of counts) {
        if (error) throw error;
        dead += Number(count);
      }
      return { ...queue, dead };
    },
    async revive(id) {
      return (await r.curfewDeliveryRevive(rec(id), due, pinKey, id, p)) === 1;
    },
  };
}
