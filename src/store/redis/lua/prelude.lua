-- The helpers every function of the library shares, loaded once with it (FUNCTION LOAD): the
-- shared clock, key templates, JSON records. src/store/redis/library.ts puts this file first,
-- after the header that names the library and sets FUNCTION_PREFIX.

-- The shared clock: a pinned test time if `pin_key` holds one, else the server's TIME, so every
-- instance judges by one clock whatever its own says.
local function now_ms(pin_key)
  if pin_key ~= '' then
    local pinned = redis.call('GET', pin_key)
    if pinned then return tonumber(pinned) end
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
local function queue_census(pin_key, queue)
  local now = now_ms(pin_key)
  local first = redis.call('ZRANGEBYSCORE', queue, '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1)
  return { tostring(now), redis.call('ZCARD', queue), redis.call('ZCOUNT', queue, '-inf', now), first }
end

-- Registers `callback(keys, args)` under this library version's name: instances of two
-- releases sharing one Redis each call their own functions (see library.ts).
local function register(name, callback)
  redis.register_function(FUNCTION_PREFIX .. name, callback)
end

register('now', function(keys)
  return now_ms(keys[1])
end)
