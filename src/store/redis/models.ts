import type { Redis } from 'ioredis';
import type { ModelPayload, ModelStore } from '../types.ts';

/**
 * Upsert of one model record and its indexes in one round trip. Every key is written with
 * `SET … PX`, never `SET` then `PEXPIRE`, so no key (even one that had just expired) is ever
 * left without its TTL. A TTL of zero or less deletes the record (Redis refuses `PX 0`). The
 * grant set's TTL is only ever extended, never shortened, so it outlives every member it lists.
 * KEYS: record, uidIndex|'', userCodeIndex|'', grantSet|''   ARGV: json, ttlMs|'', id
 */
const UPSERT = `
local ttl = tonumber(ARGV[2])
if ttl and ttl <= 0 then
  redis.call('DEL', KEYS[1])
  return 0
end
if ttl then redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl) else redis.call('SET', KEYS[1], ARGV[1]) end
for i = 2, 3 do
  if KEYS[i] ~= '' then
    if ttl then redis.call('SET', KEYS[i], ARGV[3], 'PX', ttl) else redis.call('SET', KEYS[i], ARGV[3]) end
  end
end
if KEYS[4] ~= '' then
  -- PTTL before SADD: -2 (no set yet), -1 (a member never expires), else ms left.
  local current = redis.call('PTTL', KEYS[4])
  redis.call('SADD', KEYS[4], KEYS[1])
  if not ttl then
    redis.call('PERSIST', KEYS[4])
  elseif current == -2 or (current ~= -1 and current < ttl) then
    redis.call('PEXPIRE', KEYS[4], ttl)
  end
end
return 1`;

/**
 * Marks a record consumed, keeping its remaining TTL (KEEPTTL). The payload is spliced as
 * text rather than re-encoded: Redis's cjson would turn every empty array into `{}` and round
 * numbers to 14 digits. JSON.stringify writes objects without trailing space, so appending a
 * member before the closing brace is exact; should a falsy `consumed` already be there, the
 * appended one comes last, and JSON.parse keeps the last. A truthy one is kept: the first
 * consumption is the fact, a replay does not move it.
 * KEYS: record  ARGV: epoch seconds (a JSON number)
 */
const CONSUME = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local current = cjson.decode(raw)['consumed']
if current ~= nil and current ~= cjson.null and current ~= false and current ~= 0 and current ~= '' then return 0 end
local member = '"consumed":' .. ARGV[1]
local consumed
if raw == '{}' then consumed = '{' .. member .. '}' else consumed = string.sub(raw, 1, -2) .. ',' .. member .. '}' end
redis.call('SET', KEYS[1], consumed, 'KEEPTTL')
return 1`;

/** Deletes every record of a grant and the grant set itself. KEYS: grantSet */
const REVOKE_GRANT = `
local members = redis.call('SMEMBERS', KEYS[1])
for _, key in ipairs(members) do redis.call('DEL', key) end
redis.call('DEL', KEYS[1])
return #members`;


type ModelRedis = Redis & {
  curfewUpsert(r: string, u: string, c: string, g: string, json: string, ttl: string, id: string): Promise<number>;
  curfewConsume(key: string, at: string): Promise<number>;
  curfewRevokeGrant(key: string): Promise<number>;
};

const parse = <T>(raw: string | null): T | undefined => (raw === null ? undefined : (JSON.parse(raw) as T));

/** Whole milliseconds for `PX`, which takes integers only. */
const ttlMs = (seconds: number | undefined) => (seconds === undefined ? '' : String(Math.ceil(seconds * 1000)));

export function createRedisModels(client: Redis, p: string): ModelStore {
  const redis = client as ModelRedis;
  redis.defineCommand('curfewUpsert', { numberOfKeys: 4, lua: UPSERT });
  redis.defineCommand('curfewConsume', { numberOfKeys: 1, lua: CONSUME });
  redis.defineCommand('curfewRevokeGrant', { numberOfKeys: 1, lua: REVOKE_GRANT });
  const record = (model: string, id: string) => `${p}m:${model}:${id}`;
  const index = (model: string, kind: 'uid' | 'userCode', value: string) => `${p}m:${model}:${kind}:${value}`;
  const find = async (key: string) => parse<ModelPayload>(await redis.get(key));
  const byIndex = async (model: string, kind: 'uid' | 'userCode', value: string) => {
    const id = await redis.get(index(model, kind, value));
    return id === null ? undefined : find(record(model, id));
  };
  return {
    async upsert(model, id, payload, expiresInSeconds, indexes) {
      await redis.curfewUpsert(
        record(model, id),
        indexes.uid ? index(model, 'uid', indexes.uid) : '',
        indexes.userCode ? index(model, 'userCode', indexes.userCode) : '',
        indexes.grantId ? `${p}grant:${indexes.grantId}` : '',
        JSON.stringify(payload),
        ttlMs(expiresInSeconds),
        id,
      );
    },
    find: (model, id) => find(record(model, id)),
    findByUid: (model, uid) => byIndex(model, 'uid', uid),
    findByUserCode: (model, userCode) => byIndex(model, 'userCode', userCode),
    async consume(model, id, at) {
      // The script splices the number into JSON text: only a finite number may go there.
      if (!Number.isFinite(at)) throw new RangeError(`consume needs epoch seconds, got ${at}`);
      await redis.curfewConsume(record(model, id), String(at));
    },
    async destroy(model, id) {
      await redis.del(record(model, id));
    },
    async revokeByGrantId(grantId) {
      await redis.curfewRevokeGrant(`${p}grant:${grantId}`);
    },
  };
}
