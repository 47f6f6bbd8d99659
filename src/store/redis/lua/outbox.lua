-- The ended-sessions outbox (src/store/redis/outbox.ts). An entry is a hash (`entry` json,
-- `queued` '0'|'1') so the flag flips without re-encoding the entry; the due queue holds entry
-- ids scored by the shared-clock ms their lease ends.

-- Appends an entry leased to the ending caller; the session functions call it inside the end,
-- so the end and what it owes are one step. An id already there is kept as it is (idempotent).
-- Returns the entry's json.
local function append_ended(entry_key, due_key, e, now, lease_ms)
  local existing = redis.call('HGET', entry_key, 'entry')
  if existing then return existing end
  e.endedAt = now
  e.queued = false
  local json = cjson.encode(e)
  redis.call('HSET', entry_key, 'entry', json, 'queued', '0')
  redis.call('ZADD', due_key, now + lease_ms, e.id)
  return json
end

-- KEYS: entry, due  ARGV: entry json, leaseMs. Returns the entry's json and its queued flag.
register('outbox_append', function(keys, args)
  local json = append_ended(keys[1], keys[2], cjson.decode(args[1]), now_ms(), tonumber(args[2]))
  return { json, redis.call('HGET', keys[1], 'queued') }
end)

-- Takes entries whose lease ran out and leases each in the same step.
-- KEYS: due  ARGV: limit, leaseMs, entry key template (ids come from the queue).
-- Returns { now, then queued flag and json per entry }.
register('outbox_claim', function(keys, args)
  local now = now_ms()
  local ids = redis.call('ZRANGEBYSCORE', keys[1], '-inf', now, 'LIMIT', 0, tonumber(args[1]))
  local out = { tostring(now) }
  for _, id in ipairs(ids) do
    local v = redis.call('HMGET', key_from(args[3], id), 'entry', 'queued')
    if v[1] then
      redis.call('ZADD', keys[1], now + tonumber(args[2]), id)
      table.insert(out, v[2])
      table.insert(out, v[1])
    else
      redis.call('ZREM', keys[1], id)
    end
  end
  return out
end)

-- Queues the entry's deliveries and flips its `queued` flag in the same step, only if it was
-- '0': a second processor queues nothing.
-- KEYS: entry, deliveries due, then per delivery its record and its org's pending list
-- ARGV: per delivery: id, nextAttemptAt, json
register('outbox_queue', function(keys, args)
  if redis.call('HGET', keys[1], 'queued') ~= '0' then return 0 end
  for i = 1, #args, 3 do
    local n = (i - 1) / 3
    redis.call('SET', keys[3 + 2 * n], args[i + 2])
    redis.call('ZADD', keys[2], tonumber(args[i + 1]), args[i])
    redis.call('SADD', keys[4 + 2 * n], args[i])
  end
  redis.call('HSET', keys[1], 'queued', '1')
  return 1
end)

-- KEYS: entry, due  ARGV: id
register('outbox_complete', function(keys, args)
  redis.call('DEL', keys[1])
  redis.call('ZREM', keys[2], args[1])
  return 1
end)
