-- SSO and RP sessions with their deadlines (src/store/redis/sessions.ts). Every function reads
-- the shared clock and the session in one step. The judging mirrors src/sessions/judge.ts
-- exactly (alive while now < deadline).
--
-- Keys every function receives: the session record and its shard's deadline index (a sorted
-- set of record keys scored by each session's next deadline); those that start or end RP
-- sessions also the shard's live RP-session count. Keys derived from the stored session
-- (the sid keys of its RP sessions, the org's and user's session lists of a session being
-- replaced or ended) come as templates in ARGV. On Redis Cluster a sid key is another slot:
-- its template is '' and sessions.ts writes and deletes sid keys by commands of their own.

-- How long a dead session stays readable after its absolute deadline, so whoever ends it (a
-- request, the sweeper after an outage) still sees what it was: the `redis.sessionRetainSeconds`
-- setting, the last argument of every session function (register_session takes it off).
local RETAIN_MS = 86400000

local function register_session(name, callback)
  register(name, function(keys, args)
    RETAIN_MS = tonumber(table.remove(args))
    return callback(keys, args)
  end)
end

local function sso_deadlines(s)
  return s.lastActiveAt + s.idleSeconds * 1000, s.signedInAt + s.absoluteSeconds * 1000
end

local function judge(s, client, now)
  if not s then return 'missing', 'missing' end
  local idle, abs = sso_deadlines(s)
  local sso = 'dead'
  if now < math.min(idle, abs) then sso = 'alive' end
  if client == '' then return sso, nil, idle, abs end
  local rp = s.rps[client]
  if not rp then return sso, 'missing', idle, abs end
  local ridle = math.min(idle, rp.lastActiveAt + rp.idleSeconds * 1000)
  local rabs = math.min(abs, rp.startedAt + rp.absoluteSeconds * 1000)
  local state = 'dead'
  if not rp.endedAt and now < math.min(ridle, rabs) then state = 'alive' end
  return sso, state, ridle, rabs
end

local function next_deadline(s)
  local idle, abs = sso_deadlines(s)
  local next_at = math.min(idle, abs)
  for _, rp in pairs(s.rps) do
    if not rp.endedAt then
      next_at = math.min(next_at, rp.lastActiveAt + rp.idleSeconds * 1000, rp.startedAt + rp.absoluteSeconds * 1000)
    end
  end
  return next_at
end

-- How long a record stays readable, in ms from `now`: RETAIN_MS past its absolute deadline, or
-- RETAIN_MS from now once that deadline has passed. Always relative (PX, never PXAT): Redis expires
-- keys by its own clock, which may be far from the shared clock (a pinned test time), so an
-- absolute expiry computed from one and judged by the other could expire a key as it is written.
local function retain_ms(s, now)
  local _, abs = sso_deadlines(s)
  return math.max(abs - now, 0) + RETAIN_MS
end

-- Every write keeps the session's deadline index entry current; the record key is its member.
local function save(key, index, s, now)
  redis.call('SET', key, cjson.encode(s), 'PX', retain_ms(s, now))
  redis.call('ZADD', index, next_deadline(s), key)
end

local function result(s, client, now)
  local sso, rp, idle, abs = judge(s, client, now)
  local out = { now = now, sso = sso }
  if client ~= '' then out.rp = rp end
  if s then
    out.session = s
    out.idleAt = idle
    out.absoluteAt = abs
  end
  return cjson.encode(out)
end

local function touch(s, client, now)
  local sso, rp = judge(s, client, now)
  if sso ~= 'alive' then return false end
  s.lastActiveAt = now
  if client ~= '' and rp == 'alive' then s.rps[client].lastActiveAt = now end
  return true
end

-- The live RP-session count (liveRpSessions), moved by every step that starts or ends one.
local function count_rps(key, delta)
  if delta ~= 0 then redis.call('INCRBY', key, delta) end
end

local function drop_sids(sid_template, s, only)
  if sid_template == '' then return end
  for client, rp in pairs(s.rps) do
    if (only == nil or only == client) and rp.sidKey then redis.call('DEL', key_from(sid_template, rp.sidKey)) end
  end
end

-- The end of a session a sign-in replaces: by the deadline that passed (as deadlines.ts
-- deathCause), else a logout.
local function replaced_reason(e, now, idle, abs)
  if now >= math.min(idle, abs) then
    e.deadlineAt = math.min(idle, abs)
    if abs <= idle then e.reason = 'absolute' else e.reason = 'idle' end
  end
  return e
end

-- KEYS: session, index, ended entry, ended due, org sessions, user sessions, live RP count
-- ARGV: input json, session key, ending json, sid template|'', org sessions template, user sessions template
register_session('session_login', function(keys, args)
  local input = cjson.decode(args[1])
  local now = now_ms()
  local existing = load_json(keys[1])
  if existing and judge(existing, '', now) == 'alive' and existing.user == input.user then
    existing.lastActiveAt = now
    existing.idleSeconds = input.idleSeconds
    existing.absoluteSeconds = input.absoluteSeconds
    existing.warningSeconds = input.warningSeconds
    existing.refreshIsActivity = input.refreshIsActivity
    if input.ip then existing.ip = input.ip end
    save(keys[1], keys[2], existing, now)
    return cjson.encode({ now = now, session = existing })
  end
  if existing then
    local ending = cjson.decode(args[3])
    local idle, abs = sso_deadlines(existing)
    local e = replaced_reason({ id = ending.id, reason = 'logout', scope = 'sso', session = existing, rps = {} }, now, idle, abs)
    for _, rp in pairs(existing.rps) do
      if not rp.endedAt then table.insert(e.rps, rp) end
    end
    append_ended(keys[3], keys[4], e, now, ending.leaseMs)
    count_rps(keys[7], -#e.rps)
    drop_sids(args[4], existing, nil)
    redis.call('SREM', key_from(args[5], existing.org), args[2])
    redis.call('SREM', key_from(args[6], existing.user), args[2])
  end
  input.signedInAt = now
  input.lastActiveAt = now
  input.rps = {}
  save(keys[1], keys[2], input, now)
  redis.call('SADD', keys[5], args[2])
  redis.call('SADD', keys[6], args[2])
  return cjson.encode({ now = now, session = input, replaced = existing })
end)

-- KEYS: session, index, ended entry, ended due, live RP count, the new RP session's sid (not
-- on Redis Cluster, where sessions.ts writes it after this step)
-- ARGV: rp json, session key, ending json, sid template|''
register_session('session_add_rp', function(keys, args)
  local rp = cjson.decode(args[1])
  local now = now_ms()
  local s = load_json(keys[1])
  if not s or judge(s, '', now) ~= 'alive' then return cjson.encode({ now = now }) end
  local current = s.rps[rp.client]
  if current then
    local _, state, ridle, rabs = judge(s, rp.client, now)
    if state == 'alive' and current.sid == rp.sid then
      if rp.grantId then current.grantId = rp.grantId end
      save(keys[1], keys[2], s, now)
      return cjson.encode({ now = now, session = s })
    end
    if not current.endedAt then
      local ending = cjson.decode(args[3])
      local e = replaced_reason({ id = ending.id, reason = 'logout', scope = 'rp', session = s, rps = { current } }, now, ridle, rabs)
      append_ended(keys[3], keys[4], e, now, ending.leaseMs)
      count_rps(keys[5], -1)
    end
    drop_sids(args[4], s, rp.client)
  end
  rp.startedAt = now
  rp.lastActiveAt = now
  s.rps[rp.client] = rp
  count_rps(keys[5], 1)
  save(keys[1], keys[2], s, now)
  if keys[6] then redis.call('SET', keys[6], args[2], 'PX', retain_ms(s, now)) end
  return cjson.encode({ now = now, session = s, replaced = current })
end)

-- Judges (and for 'active', touches; for 'all', touches every live RP session too).
local function check(key, index, client, mode)
  local now = now_ms()
  local s = load_json(key)
  if s and mode == 'active' then
    if touch(s, client, now) then save(key, index, s, now) end
  elseif s and mode == 'all' then
    local live = false
    for c, _ in pairs(s.rps) do live = touch(s, c, now) or live end
    if touch(s, '', now) or live then save(key, index, s, now) end
  end
  return result(s, client, now)
end

-- KEYS: session, index  ARGV: client|'', 'active'|'passive'|'all'
register_session('session_check', function(keys, args)
  return check(keys[1], keys[2], args[1], args[2])
end)

-- `check` of the client's RP session only if its sid key is `sid_key`; any other answers as
-- unknown before anything is written, so no client can keep another's session alive.
local function check_owned(key, index, client, mode, sid_key)
  local s = key and load_json(key)
  local rp = s and s.rps[client]
  if not rp or rp.sidKey ~= sid_key then return cjson.encode({ now = now_ms(), sso = 'missing', rp = 'missing' }) end
  return check(key, index, client, mode)
end

-- The RP's status in one round trip: the sid's session is found and judged in the same step.
-- KEYS: sid, index  ARGV: client, 'active'|'passive', sidKey, session key template
register_session('session_check_by_sid', function(keys, args)
  local k = redis.call('GET', keys[1])
  return check_owned(k and key_from(args[4], k), keys[2], args[1], args[2], args[3])
end)

-- Redis Cluster's second step of a status by sid, after sessions.ts read the sid key: the
-- ownership is verified here again, so a stale sid key finds nothing.
-- KEYS: session, index  ARGV: client, 'active'|'passive', sidKey
register_session('session_check_owned', function(keys, args)
  return check_owned(keys[1], keys[2], args[1], args[2], args[3])
end)

-- KEYS: session, index, ended entry, ended due, live RP count
-- ARGV: session key, ending json, sid template|'', org sessions template, user sessions template
register_session('session_end', function(keys, args)
  redis.call('ZREM', keys[2], keys[1])
  local s = load_json(keys[1])
  if not s then return false end
  local ending = cjson.decode(args[2])
  local live = {}
  for _, rp in pairs(s.rps) do
    if not rp.endedAt then table.insert(live, rp) end
  end
  append_ended(keys[3], keys[4], { id = ending.id, reason = ending.reason, deadlineAt = ending.deadlineAt, scope = 'sso', session = s, rps = live }, now_ms(), ending.leaseMs)
  count_rps(keys[5], -#live)
  drop_sids(args[3], s, nil)
  redis.call('DEL', keys[1])
  redis.call('SREM', key_from(args[4], s.org), args[1])
  redis.call('SREM', key_from(args[5], s.user), args[1])
  return cjson.encode(s)
end)

-- KEYS: session, index, ended entry, ended due, live RP count  ARGV: client, ending json, sid template|''
register_session('session_end_rp', function(keys, args)
  local s = load_json(keys[1])
  if not s or not s.rps[args[1]] or s.rps[args[1]].endedAt then return false end
  local rp = s.rps[args[1]]
  local ending = cjson.decode(args[2])
  local now = now_ms()
  drop_sids(args[3], s, args[1])
  rp.endedAt = now
  redis.call('SET', keys[1], cjson.encode(s), 'KEEPTTL')
  redis.call('ZADD', keys[2], next_deadline(s), keys[1])
  append_ended(keys[3], keys[4], { id = ending.id, reason = ending.reason, deadlineAt = ending.deadlineAt, scope = 'rp', session = s, rps = { rp } }, now, ending.leaseMs)
  count_rps(keys[5], -1)
  return cjson.encode(rp)
end)

-- KEYS: session, index  ARGV: limits json, sid template|''
register_session('session_set_limits', function(keys, args)
  local l = cjson.decode(args[1])
  local now = now_ms()
  local s = load_json(keys[1])
  if s then
    s.idleSeconds = l.idleSeconds
    s.absoluteSeconds = l.absoluteSeconds
    s.warningSeconds = l.warningSeconds
    s.refreshIsActivity = l.refreshIsActivity
    for client, rp in pairs(s.rps) do
      local r = l.rps[client]
      if r then
        rp.idleSeconds = r.idleSeconds
        rp.absoluteSeconds = r.absoluteSeconds
        rp.refreshIsActivity = r.refreshIsActivity
      end
    end
    save(keys[1], keys[2], s, now)
    -- A longer absolute limit outlives the sid keys' TTLs set when each RP session started:
    -- they follow the record, so a status by sid never reads 'missing' for a live session
    -- (on Redis Cluster sessions.ts does this after the step).
    for _, rp in pairs(s.rps) do
      if rp.sidKey and args[2] ~= '' then redis.call('PEXPIRE', key_from(args[2], rp.sidKey), retain_ms(s, now)) end
    end
  end
  return result(s, '', now)
end)

-- The record keeps its TTL and index entry. KEYS: session  ARGV: source, client|''
register_session('session_count_activity', function(keys, args)
  local s = load_json(keys[1])
  if not s then return 0 end
  if type(s.activity) ~= 'table' or s.activity[1] ~= nil then s.activity = {} end
  local c = s.activity[args[1]] or { count = 0 }
  c.count = c.count + 1
  c.lastAt = now_ms()
  if args[2] ~= '' then c.lastClient = args[2] end
  s.activity[args[1]] = c
  redis.call('SET', keys[1], cjson.encode(s), 'KEEPTTL')
  return 1
end)

-- Compare-and-set of the RP's warned window. KEYS: session  ARGV: client, warningAt
register_session('session_mark_warned', function(keys, args)
  local s = load_json(keys[1])
  if not s then return 0 end
  local rp = s.rps[args[1]]
  local at = tonumber(args[2])
  if not rp or rp.endedAt or rp.warnedFor == at then return 0 end
  rp.warnedFor = at
  redis.call('SET', keys[1], cjson.encode(s), 'KEEPTTL')
  return 1
end)

-- The sweeper's claim: takes due entries and pushes their score a lease ahead in the same step,
-- so concurrent sweepers never take the same session. It also tells when the index is next due
-- (its earliest score after the claim, '' when empty), so the sweeper can wake right then.
-- KEYS: index  ARGV: limit, leaseMs. Returns { now, next due or '', record key... }.
register_session('session_claim_due', function(keys, args)
  local now = now_ms()
  local due = redis.call('ZRANGEBYSCORE', keys[1], '-inf', now, 'LIMIT', 0, tonumber(args[1]))
  for _, member in ipairs(due) do redis.call('ZADD', keys[1], now + tonumber(args[2]), member) end
  local first = redis.call('ZRANGE', keys[1], 0, 0, 'WITHSCORES')
  return { tostring(now), first[2] or '', unpack(due) }
end)

-- KEYS: index. Read-only.
register_session('session_census', function(keys)
  return queue_census(keys[1])
end)
