-- The helpers every function of the library shares, loaded once with it (FUNCTION LOAD): the
-- shared clock, key templates, JSON records. src/store/redis/library.ts puts this file first,
-- after the header that names the library and sets FUNCTION_PREFIX.

-- The shared clock's pin for the call being run (tests only), from the call's last argument
-- (see `register`): nil for none, else the pin key to read (one server) or the pinned ms itself
-- (Redis Cluster, where TypeScript reads the pin: one key, which a function of another slot
-- may not touch).
local PIN_KEY = nil
local PINNED = nil

-- The shared clock: the pinned test time if the call carries one, else the server's TIME, so
-- every instance judges by one clock whatever its own says.
local function now_ms()
  if PIN_KEY then
    local pinned = redis.call('GET', PIN_KEY)
    if pinned then return tonumber(pinned) end
  elseif PINNED then
    return PINNED
  end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A key derived from stored data, by a template from src/store/redis/keys.ts (keyTemplate):
-- the template's one NUL byte stands for `value`. Functions never spell a key name themselves.
local function key_from(template, value)
  local at = string.find(template, '\0', 1, true)
  return string.sub(template, 1, at - 1) .. value .. string.sub(template, at + 1)
end

local function load_json(key)
  local raw = redis.call('GET', key)
  if not raw then return nil end
  return cjson.decode(raw)
end

-- A queue's depth at the shared clock's now: its size, how many are due, the earliest due
-- score. `queue` is a sorted set scored by when each member is due. Read-only.
local function queue_census(queue)
  local now = now_ms()
  local first = redis.call('ZRANGEBYSCORE', queue, '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1)
  return { tostring(now), redis.call('ZCARD', queue), redis.call('ZCOUNT', queue, '-inf', now), first }
end

-- Registers `callback(keys, args)` under this library version's name: instances of two
-- releases sharing one Redis each call their own functions (see library.ts). Every call's last
-- argument is the clock pin, taken off here: '' none, 'k<key>' a pin key, 'v<ms>' a pinned time.
local function register(name, callback)
  redis.register_function(FUNCTION_PREFIX .. name, function(keys, args)
    local pin = table.remove(args) or ''
    local kind, body = string.sub(pin, 1, 1), string.sub(pin, 2)
    PIN_KEY, PINNED = nil, nil
    if kind == 'k' then PIN_KEY = body elseif kind == 'v' then PINNED = tonumber(body) end
    return callback(keys, args)
  end)
end

register('now', function()
  return now_ms()
end)

-- One shard's due scores, for a claim across shards (src/store/redis/shards.ts): the shared
-- clock's now, the queue's earliest score ('' when empty), and the scores of up to `limit` due
-- members, ascending. Read-only. KEYS: queue  ARGV: limit
register('queue_peek', function(keys, args)
  local now = now_ms()
  local due = redis.call('ZRANGEBYSCORE', keys[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(args[1]))
  local first = redis.call('ZRANGE', keys[1], 0, 0, 'WITHSCORES')
  local out = { tostring(now), first[2] or '' }
  for i = 2, #due, 2 do table.insert(out, due[i]) end
  return out
end)
