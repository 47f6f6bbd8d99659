import type { Redis } from 'ioredis';
import type { RpSession, SsoSession } from '../../sessions/types.ts';
import { APPEND_ENDED_LUA, NOW_MS_LUA, normalize } from './sessions.ts';
import type { EndedEntry, EndedOutbox } from '../types.ts';

/**
 * Keys: `<p>ended:<id>` a hash (`entry` json, `queued` '0'|'1'), `<p>ended:due` the entries by the
 * shared-clock ms their lease ends. Entries are appended by the session scripts' ends
 * (APPEND_ENDED_LUA); these scripts claim, queue and complete them.
 */

/** KEYS: pin, due  ARGV: limit, leaseMs, prefix. Leases each entry taken in the same step. */
const CLAIM = `${NOW_MS_LUA}
local now = now_ms(KEYS[1])
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local out = { tostring(now) }
for _, id in ipairs(ids) do
  local v = redis.call('HMGET', ARGV[3] .. 'ended:' .. id, 'entry', 'queued')
  if v[1] then
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), id)
    table.insert(out, v[2])
    table.insert(out, v[1])
  else
    redis.call('ZREM', KEYS[2], id)
  end
end
return out`;

/**
 * KEYS: entry, deliveries due index  ARGV: prefix, then (id, org, nextAttemptAt, json) per
 * delivery. Queues them with the keys src/store/redis/deliveries.ts uses and flips the entry's
 * `queued` flag in the same step, only if it was '0': a second processor queues nothing.
 */
const QUEUE = `
if redis.call('HGET', KEYS[1], 'queued') ~= '0' then return 0 end
for i = 2, #ARGV, 4 do
  local id, org, next_at, json = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  redis.call('SET', ARGV[1] .. 'delivery:' .. id, json)
  redis.call('ZADD', KEYS[2], tonumber(next_at), id)
  redis.call('SADD', ARGV[1] .. 'org:' .. org .. ':deliveries:pending', id)
end
redis.call('HSET', KEYS[1], 'queued', '1')
return 1`;

/** KEYS: entry, due  ARGV: id */
const COMPLETE = `
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1`;

/** KEYS: pin  ARGV: prefix, entry json, leaseMs. Returns the entry's json and its queued flag. */
const APPEND = `${NOW_MS_LUA}
${APPEND_ENDED_LUA}
local json = append_ended(ARGV[1], cjson.decode(ARGV[2]), now_ms(KEYS[1]), tonumber(ARGV[3]))
return { json, redis.call('HGET', ARGV[1] .. 'ended:' .. cjson.decode(ARGV[2]).id, 'queued') }`;

interface OutboxScripts {
  curfewEndedClaim(pin: string, due: string, limit: string, lease: string, prefix: string): Promise<string[]>;
  curfewEndedQueue(entry: string, deliveriesDue: string, prefix: string, ...deliveries: string[]): Promise<number>;
  curfewEndedComplete(entry: string, due: string, id: string): Promise<number>;
  curfewEndedAppend(pin: string, prefix: string, entry: string, lease: string): Promise<[string, string]>;
}
type OutboxRedis = Redis & OutboxScripts;

/** cjson writes an empty Lua table as `{}`, and a list comes back as an array. */
function toEntry(json: string, queued: string | null): EndedEntry {
  const raw = JSON.parse(json) as Omit<EndedEntry, 'rps' | 'queued'> & { rps: RpSession[] | Record<string, RpSession> };
  return { ...raw, session: normalize(raw.session as SsoSession)!, rps: Array.isArray(raw.rps) ? raw.rps : Object.values(raw.rps), queued: queued === '1' };
}

export function createRedisOutbox(redis: Redis, p: string, pinKey: string): EndedOutbox {
  const r = redis as OutboxRedis;
  r.defineCommand('curfewEndedClaim', { numberOfKeys: 2, lua: CLAIM });
  r.defineCommand('curfewEndedQueue', { numberOfKeys: 2, lua: QUEUE });
  r.defineCommand('curfewEndedComplete', { numberOfKeys: 2, lua: COMPLETE });
  r.defineCommand('curfewEndedAppend', { numberOfKeys: 1, lua: APPEND });
  const due = `${p}ended:due`;
  const rec = (id: string) => `${p}ended:${id}`;
  return {
    async append(entry, leaseMs) {
      const [json, queued] = await r.curfewEndedAppend(pinKey, p, JSON.stringify(entry), String(leaseMs));
      return toEntry(json, queued);
    },
    async claim(limit, leaseMs) {
      const [now, ...flat] = await r.curfewEndedClaim(pinKey, due, String(limit), String(leaseMs), p);
      const entries: EndedEntry[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const [queued, json] = [flat[i], flat[i + 1]];
        if (json !== undefined) entries.push(toEntry(json, queued ?? null));
      }
      return { now: Number(now), entries };
    },
    async queueDeliveries(id, deliveries) {
      const args = deliveries.flatMap((d) => [d.id, d.org, String(d.nextAttemptAt), JSON.stringify(d)]);
      return (await r.curfewEndedQueue(rec(id), `${p}deliveries:due`, p, ...args)) === 1;
    },
    async complete(id) {
      await r.curfewEndedComplete(rec(id), due, id);
    },
    async get(id) {
      const [json, queued] = await redis.hmget(rec(id), 'entry', 'queued');
      return json ? toEntry(json, queued ?? null) : undefined;
    },
    size: () => redis.zcard(due),
  };
}
