-- The logout-token queue (src/store/redis/deliveries.ts). A delivery's record changes state with
-- its index entries (the due queue, its org's pending and dead lists) in one function, so no
-- update reads a record and then writes it over another instance's change (a retry racing an
-- admin's revive). Delivery fields are scalars, so cjson's re-encoding is exact (ms timestamps
-- have 13 digits). The org lists' keys come from the record: ARGV carries their templates.

-- Takes due deliveries and hides them for a lease in one step: concurrent workers never share
-- one, a dead worker's reappear after the lease.
-- KEYS: due  ARGV: limit, leaseMs, record key template. Returns { now, json... }.
register('delivery_claim', function(keys, args)
  local now = now_ms()
  local ids = redis.call('ZRANGEBYSCORE', keys[1], '-inf', now, 'LIMIT', 0, tonumber(args[1]))
  local out = {}
  for _, id in ipairs(ids) do
    redis.call('ZADD', keys[1], now + tonumber(args[2]), id)
    local raw = redis.call('GET', key_from(args[3], id))
    if raw then table.insert(out, raw) else redis.call('ZREM', keys[1], id) end
  end
  return { tostring(now), unpack(out) }
end)

-- Delivered: gone from the queue and its org's pending list. Returns 1 if it was there.
-- KEYS: record, due  ARGV: id, pending list template
register('delivery_complete', function(keys, args)
  redis.call('ZREM', keys[2], args[1])
  local d = load_json(keys[1])
  if not d then return 0 end
  redis.call('DEL', keys[1])
  redis.call('SREM', key_from(args[2], d.org), args[1])
  return 1
end)

-- Only a pending delivery is rescheduled.
-- KEYS: record, due  ARGV: id, attempts, nextAttemptAt, error
register('delivery_retry_later', function(keys, args)
  local d = load_json(keys[1])
  if not d or d.state ~= 'pending' then return 0 end
  d.attempts = tonumber(args[2])
  d.nextAttemptAt = tonumber(args[3])
  d.lastError = args[4]
  redis.call('SET', keys[1], cjson.encode(d))
  redis.call('ZADD', keys[2], d.nextAttemptAt, args[1])
  return 1
end)

-- A pending delivery becomes a dead letter.
-- KEYS: record, due  ARGV: id, attempts, error, pending list template, dead list template
register('delivery_bury', function(keys, args)
  local d = load_json(keys[1])
  if not d or d.state ~= 'pending' then return 0 end
  d.attempts = tonumber(args[2])
  d.state = 'dead'
  d.lastError = args[3]
  redis.call('SET', keys[1], cjson.encode(d))
  redis.call('ZREM', keys[2], args[1])
  redis.call('SREM', key_from(args[4], d.org), args[1])
  redis.call('SADD', key_from(args[5], d.org), args[1])
  return 1
end)

-- A dead letter back into the queue, due now, with a fresh attempt budget: an admin retry after
-- the cause was fixed deserves the whole retry schedule, not one try.
-- KEYS: record, due  ARGV: id, pending list template, dead list template
register('delivery_revive', function(keys, args)
  local d = load_json(keys[1])
  if not d or d.state ~= 'dead' then return 0 end
  local now = now_ms()
  d.state = 'pending'
  d.attempts = 0
  d.nextAttemptAt = now
  redis.call('SET', keys[1], cjson.encode(d))
  redis.call('ZADD', keys[2], now, args[1])
  redis.call('SREM', key_from(args[3], d.org), args[1])
  redis.call('SADD', key_from(args[2], d.org), args[1])
  return 1
end)

-- KEYS: due. Read-only.
register('delivery_census', function(keys)
  return queue_census(keys[1])
end)
