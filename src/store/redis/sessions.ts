import type { Redis } from 'ioredis';
import type { RpSession, SessionCheck, SsoSession } from '../../sessions/types.ts';
import type { Ending, QueueCensus, SessionStore } from '../types.ts';

/** The shared clock in Lua: a pinned test time if `pin_key` holds one, else the server's TIME. */
export const NOW_MS_LUA = `
local function now_ms(pin_key)
  if pin_key ~= '' then
    local pinned = redis.call('GET', pin_key)
    if pinned then return tonumber(pinned) end
  end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end`;

/**
 * Appends an entry to the ended-sessions outbox (src/store/redis/outbox.ts), leased to the
 * ending caller, inside the script that ends the session: the end and what it owes are one
 * step. The entry is a hash (`entry` json, `queued` flag) so the flag flips without re-encoding
 * the entry; an id already there is kept as it is (idempotent).
 */
export const APPEND_ENDED_LUA = `
local function append_ended(prefix, e, now, lease_ms)
  local k = prefix .. 'ended:' .. e.id
  local existing = redis.call('HGET', k, 'entry')
  if existing then return existing end
  e.endedAt = now
  e.queued = false
  local json = cjson.encode(e)
  redis.call('HSET', k, 'entry', json, 'queued', '0')
  redis.call('ZADD', prefix .. 'ended:due', now + lease_ms, e.id)
  return json
end`;

/**
 * Lua shared by every session script. It mirrors `src/sessions/judge.ts` exactly (alive while
 * now < deadline) and takes `now` from the Redis server's TIME — so every instance judges by one
 * clock, whatever its own says. Test stores may pin that clock.
 */
const PRELUDE = `
local RETAIN_MS = 86400000
${NOW_MS_LUA}
${APPEND_ENDED_LUA}
local function load(key)
  local raw = redis.call('GET', key)
  if not raw then return nil end
  return cjson.decode(raw)
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
-- A dead session stays readable for a day after its absolute deadline, so whoever ends it
-- (a request, the sweeper) still sees what it was.
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
-- How long a record stays readable, in ms from \`now\`: a day past its absolute deadline, or a
-- day from now once that deadline has passed. Always relative (PX, never PXAT): Redis expires
-- keys by its own clock, which may be far from the shared clock (a pinned test time), so an
-- absolute expiry computed from one and judged by the other could expire a key as it is written.
local function retain_ms(s, now)
  local _, abs = sso_deadlines(s)
  return math.max(abs - now, 0) + RETAIN_MS
end
-- KEYS[3] of every writing script is the deadline index; the record key is its member.
local function save(key, s, now)
  redis.call('SET', key, cjson.encode(s), 'PX', retain_ms(s, now))
  redis.call('ZADD', KEYS[3], next_deadline(s), key)
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
local function drop_sids(prefix, s, only)
  for client, rp in pairs(s.rps) do
    if (only == nil or only == client) and rp.sidKey then redis.call('DEL', prefix .. 'sid:' .. rp.sidKey) end
  end
end
`;

/** KEYS: session, pin, index  ARGV: input json, prefix, sessionKey, ending json */
const LOGIN = `${PRELUDE}
local input = cjson.decode(ARGV[1])
local now = now_ms(KEYS[2])
local existing = load(KEYS[1])
local replaced = nil
if existing and judge(existing, '', now) == 'alive' and existing.user == input.user then
  existing.lastActiveAt = now
  existing.idleSeconds = input.idleSeconds
  existing.absoluteSeconds = input.absoluteSeconds
  existing.warningSeconds = input.warningSeconds
  existing.refreshIsActivity = input.refreshIsActivity
  if input.ip then existing.ip = input.ip end
  save(KEYS[1], existing, now)
  return cjson.encode({ now = now, session = existing })
end
if existing then
  -- The replaced session ends here: by the deadline that passed (as deadlines.ts deathCause), else a logout.
  local ending = cjson.decode(ARGV[4])
  local idle, abs = sso_deadlines(existing)
  local e = { id = ending.id, reason = 'logout', scope = 'sso', session = existing, rps = {} }
  if now >= math.min(idle, abs) then
    e.deadlineAt = math.min(idle, abs)
    if abs <= idle then e.reason = 'absolute' else e.reason = 'idle' end
  end
  for _, rp in pairs(existing.rps) do
    if not rp.endedAt then table.insert(e.rps, rp) end
  end
  append_ended(ARGV[2], e, now, ending.leaseMs)
  drop_sids(ARGV[2], existing, nil)
  redis.call('SREM', ARGV[2] .. 'org:' .. existing.org .. ':sessions', ARGV[3])
  redis.call('SREM', ARGV[2] .. 'user:' .. existing.user .. ':sessions', ARGV[3])
end
input.signedInAt = now
input.lastActiveAt = now
input.rps = {}
save(KEYS[1], input, now)
redis.call('SADD', ARGV[2] .. 'org:' .. input.org .. ':sessions', ARGV[3])
redis.call('SADD', ARGV[2] .. 'user:' .. input.user .. ':sessions', ARGV[3])
return cjson.encode({ now = now, session = input, replaced = existing })`;

/** KEYS: session, pin, index  ARGV: rp json, prefix, sessionKey, ending json */
const ADD_RP = `${PRELUDE}
local rp = cjson.decode(ARGV[1])
local now = now_ms(KEYS[2])
local s = load(KEYS[1])
if not s or judge(s, '', now) ~= 'alive' then return cjson.encode({ now = now }) end
local current = s.rps[rp.client]
if current then
  local _, state = judge(s, rp.client, now)
  if state == 'alive' and current.sid == rp.sid then
    if rp.grantId then current.grantId = rp.grantId end
    save(KEYS[1], s, now)
    return cjson.encode({ now = now, session = s })
  end
  if not current.endedAt then
    -- The replaced RP session ends here, as in LOGIN.
    local ending = cjson.decode(ARGV[4])
    local _, _, ridle, rabs = judge(s, rp.client, now)
    local e = { id = ending.id, reason = 'logout', scope = 'rp', session = s, rps = { current } }
    if now >= math.min(ridle, rabs) then
      e.deadlineAt = math.min(ridle, rabs)
      if rabs <= ridle then e.reason = 'absolute' else e.reason = 'idle' end
    end
    append_ended(ARGV[2], e, now, ending.leaseMs)
  end
  drop_sids(ARGV[2], s, rp.client)
end
rp.startedAt = now
rp.lastActiveAt = now
s.rps[rp.client] = rp
save(KEYS[1], s, now)
redis.call('SET', ARGV[2] .. 'sid:' .. rp.sidKey, ARGV[3], 'PX', retain_ms(s, now))
return cjson.encode({ now = now, session = s, replaced = current })`;

/** KEYS: session, pin, index  ARGV: client|'', 'active'|'passive'|'all' */
const CHECK_BODY = `
local function check(key, client, mode)
  local now = now_ms(KEYS[2])
  local s = load(key)
  if s and mode == 'active' then
    if touch(s, client, now) then save(key, s, now) end
  elseif s and mode == 'all' then
    local live = false
    for c, _ in pairs(s.rps) do live = touch(s, c, now) or live end
    if touch(s, '', now) or live then save(key, s, now) end
  end
  return result(s, client, now)
end`;

const CHECK = `${PRELUDE}${CHECK_BODY}
return check(KEYS[1], ARGV[1], ARGV[2])`;

/**
 * KEYS: sidIndex, pin, index  ARGV: prefix, client, 'active'|'passive', sidKey. The RP's status
 * in one round trip: the sid's session is found and judged in the same script. A sid that is
 * not the named client's own RP session answers as unknown before anything is written, so no
 * client can keep another's session alive.
 */
const CHECK_BY_SID = `${PRELUDE}${CHECK_BODY}
local k = redis.call('GET', KEYS[1])
local s = k and load(ARGV[1] .. 'sso:' .. k)
local rp = s and s.rps[ARGV[2]]
if not rp or rp.sidKey ~= ARGV[4] then return cjson.encode({ now = now_ms(KEYS[2]), sso = 'missing', rp = 'missing' }) end
return check(ARGV[1] .. 'sso:' .. k, ARGV[2], ARGV[3])`;

/** KEYS: session, pin, index  ARGV: prefix, sessionKey, ending json */
const END = `${PRELUDE}
redis.call('ZREM', KEYS[3], KEYS[1])
local s = load(KEYS[1])
if not s then return false end
local ending = cjson.decode(ARGV[3])
local live = {}
for _, rp in pairs(s.rps) do
  if not rp.endedAt then table.insert(live, rp) end
end
append_ended(ARGV[1], { id = ending.id, reason = ending.reason, deadlineAt = ending.deadlineAt, scope = 'sso', session = s, rps = live }, now_ms(KEYS[2]), ending.leaseMs)
drop_sids(ARGV[1], s, nil)
redis.call('DEL', KEYS[1])
redis.call('SREM', ARGV[1] .. 'org:' .. s.org .. ':sessions', ARGV[2])
redis.call('SREM', ARGV[1] .. 'user:' .. s.user .. ':sessions', ARGV[2])
return cjson.encode(s)`;

/** KEYS: session, pin, index  ARGV: prefix, client, ending json */
const END_RP = `${PRELUDE}
local s = load(KEYS[1])
if not s or not s.rps[ARGV[2]] or s.rps[ARGV[2]].endedAt then return false end
local rp = s.rps[ARGV[2]]
local ending = cjson.decode(ARGV[3])
local now = now_ms(KEYS[2])
drop_sids(ARGV[1], s, ARGV[2])
rp.endedAt = now
redis.call('SET', KEYS[1], cjson.encode(s), 'KEEPTTL')
redis.call('ZADD', KEYS[3], next_deadline(s), KEYS[1])
append_ended(ARGV[1], { id = ending.id, reason = ending.reason, deadlineAt = ending.deadlineAt, scope = 'rp', session = s, rps = { rp } }, now, ending.leaseMs)
return cjson.encode(rp)`;

/** KEYS: session, pin, index  ARGV: limits json */
const SET_LIMITS = `${PRELUDE}
local l = cjson.decode(ARGV[1])
local now = now_ms(KEYS[2])
local s = load(KEYS[1])
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
  save(KEYS[1], s, now)
end
return result(s, '', now)`;

/** KEYS: session, pin, index  ARGV: source, client|''. The record keeps its TTL and index entry. */
const COUNT_ACTIVITY = `${PRELUDE}
local s = load(KEYS[1])
if not s then return 0 end
if type(s.activity) ~= 'table' or s.activity[1] ~= nil then s.activity = {} end
local c = s.activity[ARGV[1]] or { count = 0 }
c.count = c.count + 1
c.lastAt = now_ms(KEYS[2])
if ARGV[2] ~= '' then c.lastClient = ARGV[2] end
s.activity[ARGV[1]] = c
redis.call('SET', KEYS[1], cjson.encode(s), 'KEEPTTL')
return 1`;

/** KEYS: session, pin, index  ARGV: client, warningAt. Compare-and-set of the RP's warned window. */
const MARK_WARNED = `${PRELUDE}
local s = load(KEYS[1])
if not s then return 0 end
local rp = s.rps[ARGV[1]]
local at = tonumber(ARGV[2])
if not rp or rp.endedAt or rp.warnedFor == at then return 0 end
rp.warnedFor = at
redis.call('SET', KEYS[1], cjson.encode(s), 'KEEPTTL')
return 1`;

/** KEYS: pin */
const NOW = `${PRELUDE}
return now_ms(KEYS[1])`;

/**
 * KEYS: pin, index  ARGV: limit, leaseMs. Takes due entries and pushes their score a lease
 * ahead in the same step, so concurrent sweepers never take the same session.
 */
/**
 * KEYS: pin, a sorted set scored by when each member is due. Its size, how many are due at the
 * shared clock's now, and the earliest due score, read in one step. Read-only.
 */
export const QUEUE_CENSUS = `${NOW_MS_LUA}
local now = now_ms(KEYS[1])
local first = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1)
return { tostring(now), redis.call('ZCARD', KEYS[2]), redis.call('ZCOUNT', KEYS[2], '-inf', now), first }`;

/** The reply of {@link QUEUE_CENSUS}. */
export function toCensus([now, size, due, first]: [string, number, number, string[]]): QueueCensus {
  return { now: Number(now), size, due, ...(first.length === 2 ? { oldestDueAt: Number(first[1]) } : {}) };
}

const CLAIM_DUE = `${PRELUDE}
local now = now_ms(KEYS[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, member in ipairs(due) do redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), member) end
return cjson.encode({ now = now, keys = due })`;

interface SessionScripts {
  curfewSessLogin(key: string, pin: string, index: string, input: string, prefix: string, sessionKey: string, ending: string): Promise<string>;
  curfewSessAddRp(key: string, pin: string, index: string, rp: string, prefix: string, sessionKey: string, ending: string): Promise<string>;
  curfewSessCheck(key: string, pin: string, index: string, client: string, activity: string): Promise<string>;
  curfewSessCheckBySid(sidIndex: string, pin: string, index: string, prefix: string, client: string, activity: string, sidKey: string): Promise<string>;
  curfewSessEnd(key: string, pin: string, index: string, prefix: string, sessionKey: string, ending: string): Promise<string | null>;
  curfewSessEndRp(key: string, pin: string, index: string, prefix: string, client: string, ending: string): Promise<string | null>;
  curfewSessSetLimits(key: string, pin: string, index: string, limits: string): Promise<string>;
  curfewSessCountActivity(key: string, pin: string, index: string, source: string, client: string): Promise<number>;
  curfewSessMarkWarned(key: string, pin: string, index: string, client: string, warningAt: string): Promise<number>;
  curfewNow(pin: string): Promise<number>;
  curfewClaimDue(pin: string, index: string, limit: string, leaseMs: string): Promise<string>;
  curfewQueueCensus(pin: string, index: string): Promise<[string, number, number, string[]]>;
}

export type SessionRedis = Redis & SessionScripts;

export function defineSessionScripts(redis: Redis): SessionRedis {
  redis.defineCommand('curfewSessLogin', { numberOfKeys: 3, lua: LOGIN });
  redis.defineCommand('curfewSessAddRp', { numberOfKeys: 3, lua: ADD_RP });
  redis.defineCommand('curfewSessCheck', { numberOfKeys: 3, lua: CHECK });
  redis.defineCommand('curfewSessCheckBySid', { numberOfKeys: 3, lua: CHECK_BY_SID });
  redis.defineCommand('curfewSessEnd', { numberOfKeys: 3, lua: END });
  redis.defineCommand('curfewSessEndRp', { numberOfKeys: 3, lua: END_RP });
  redis.defineCommand('curfewSessSetLimits', { numberOfKeys: 3, lua: SET_LIMITS });
  redis.defineCommand('curfewSessCountActivity', { numberOfKeys: 3, lua: COUNT_ACTIVITY });
  redis.defineCommand('curfewSessMarkWarned', { numberOfKeys: 3, lua: MARK_WARNED });
  redis.defineCommand('curfewNow', { numberOfKeys: 1, lua: NOW });
  redis.defineCommand('curfewClaimDue', { numberOfKeys: 2, lua: CLAIM_DUE });
  redis.defineCommand('curfewQueueCensus', { numberOfKeys: 2, lua: QUEUE_CENSUS });
  return redis as SessionRedis;
}

interface RawCheck {
  now: number;
  sso: SessionCheck['sso'];
  rp?: SessionCheck['rp'];
  session?: SsoSession;
  idleAt?: number;
  absoluteAt?: number;
  replaced?: SsoSession | RpSession;
}

/** cjson writes an empty Lua table as `[]`; a session's rps is always an object. */
export function normalize(session: SsoSession | undefined): SsoSession | undefined {
  if (session && Array.isArray(session.rps)) session.rps = {};
  if (session && Array.isArray(session.activity)) session.activity = {};
  return session;
}

function toCheck(raw: RawCheck): SessionCheck {
  const check: SessionCheck = { now: raw.now, sso: raw.sso };
  if (raw.rp !== undefined) check.rp = raw.rp;
  if (raw.session) check.session = normalize(raw.session)!;
  if (raw.idleAt !== undefined && raw.absoluteAt !== undefined) check.deadlines = { idleAt: raw.idleAt, absoluteAt: raw.absoluteAt };
  return check;
}

export function createRedisSessions(redis: SessionRedis, p: string, pinKey: string): SessionStore {
  const sess = (key: string) => `${p}sso:${key}`;
  const index = `${p}deadlines`;
  return {
    async login(key, input, ending) {
      const raw = JSON.parse(await redis.curfewSessLogin(sess(key), pinKey, index, JSON.stringify(input), p, key, JSON.stringify(ending))) as RawCheck;
      const out: { session: SsoSession; replaced?: SsoSession; now: number } = { session: normalize(raw.session)!, now: raw.now };
      if (raw.replaced) out.replaced = normalize(raw.replaced as SsoSession)!;
      return out;
    },
    async addRp(key, rp, ending) {
      const raw = JSON.parse(await redis.curfewSessAddRp(sess(key), pinKey, index, JSON.stringify(rp), p, key, JSON.stringify(ending))) as RawCheck;
      const out: { session?: SsoSession; replaced?: RpSession; now: number } = { now: raw.now };
      if (raw.session) out.session = normalize(raw.session)!;
      if (raw.replaced) out.replaced = raw.replaced as RpSession;
      return out;
    },
    async check(key, client, activity) {
      return toCheck(JSON.parse(await redis.curfewSessCheck(sess(key), pinKey, index, client ?? '', activity)) as RawCheck);
    },
    async checkBySid(sidKey, client, activity) {
      return toCheck(JSON.parse(await redis.curfewSessCheckBySid(`${p}sid:${sidKey}`, pinKey, index, p, client, activity, sidKey)) as RawCheck);
    },
    async touchAll(key) {
      return toCheck(JSON.parse(await redis.curfewSessCheck(sess(key), pinKey, index, '', 'all')) as RawCheck);
    },
    async get(key) {
      const raw = await redis.get(sess(key));
      return raw === null ? undefined : normalize(JSON.parse(raw) as SsoSession);
    },
    async end(key, ending: Ending) {
      const raw = await redis.curfewSessEnd(sess(key), pinKey, index, p, key, JSON.stringify(ending));
      return raw ? normalize(JSON.parse(raw) as SsoSession) : undefined;
    },
    async endRp(key, client, ending: Ending) {
      const raw = await redis.curfewSessEndRp(sess(key), pinKey, index, p, client, JSON.stringify(ending));
      return raw ? (JSON.parse(raw) as RpSession) : undefined;
    },
    async setLimits(key, limits) {
      return toCheck(JSON.parse(await redis.curfewSessSetLimits(sess(key), pinKey, index, JSON.stringify(limits))) as RawCheck);
    },
    async countActivity(key, source, client) {
      await redis.curfewSessCountActivity(sess(key), pinKey, index, source, client ?? '');
    },
    async markWarned(key, client, warningAt) {
      return (await redis.curfewSessMarkWarned(sess(key), pinKey, index, client, String(warningAt))) === 1;
    },
    keysOfOrg: (org) => redis.smembers(`${p}org:${org}:sessions`),
    keysOfUser: (user) => redis.smembers(`${p}user:${user}:sessions`),
    async claimDue(limit, leaseMs) {
      const raw = JSON.parse(await redis.curfewClaimDue(pinKey, index, String(limit), String(leaseMs))) as { now: number; keys: string[] | Record<string, never> };
      const members = Array.isArray(raw.keys) ? raw.keys : [];
      return { now: raw.now, keys: members.map((m) => m.slice(`${p}sso:`.length)) };
    },
    async census() {
      const census = toCensus(await redis.curfewQueueCensus(pinKey, index));
      return { ...census, live: census.size };
    },
  };
}
