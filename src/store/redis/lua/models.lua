-- oidc-provider's records (src/store/redis/models.ts).

-- Adds a record key to a grant set. The set's TTL is only ever extended, never shortened, so it
-- outlives every member it lists; `ttl` nil: a member that never expires.
local function grant_add(set, member, ttl)
  -- PTTL before SADD: -2 (no set yet), -1 (a member never expires), else ms left.
  local current = redis.call('PTTL', set)
  redis.call('SADD', set, member)
  if not ttl then
    redis.call('PERSIST', set)
  elseif current == -2 or (current ~= -1 and current < ttl) then
    redis.call('PEXPIRE', set, ttl)
  end
end

-- Upsert of one model record and its indexes. Every key is written with `SET … PX`, never SET
-- then PEXPIRE, so no key (even one that had just expired) is ever left without its TTL. A TTL
-- of zero or less deletes the record (Redis refuses `PX 0`). The grant set's TTL is only ever
-- extended, never shortened, so it outlives every member it lists.
-- KEYS: record, uidIndex|'', userCodeIndex|'', grantSet|''   ARGV: json, ttlMs|'', id
-- On Redis Cluster only the record is passed (its indexes and grant set are other slots:
-- models.ts writes them first, the set with model_grant_add).
register('model_upsert', function(keys, args)
  local ttl = tonumber(args[2])
  if ttl and ttl <= 0 then
    redis.call('DEL', keys[1])
    return 0
  end
  if ttl then redis.call('SET', keys[1], args[1], 'PX', ttl) else redis.call('SET', keys[1], args[1]) end
  for i = 2, 3 do
    if keys[i] and keys[i] ~= '' then
      if ttl then redis.call('SET', keys[i], args[3], 'PX', ttl) else redis.call('SET', keys[i], args[3]) end
    end
  end
  if keys[4] and keys[4] ~= '' then grant_add(keys[4], keys[1], ttl) end
  return 1
end)

-- Redis Cluster: a record's grant set membership on its own, written before the record so a
-- revoke never misses a record that exists. KEYS: grantSet  ARGV: record key, ttlMs|''
register('model_grant_add', function(keys, args)
  grant_add(keys[1], args[1], tonumber(args[2]))
  return 1
end)

-- Marks a record consumed, keeping its remaining TTL (KEEPTTL). The payload is spliced as text
-- rather than re-encoded: cjson would turn every empty array into `{}` and round numbers to 14
-- digits. JSON.stringify writes objects without trailing space, so appending a member before
-- the closing brace is exact; should a falsy `consumed` already be there, the appended one
-- comes last, and JSON.parse keeps the last. A truthy one is kept: the first consumption is
-- the fact, a replay does not move it.
-- KEYS: record  ARGV: epoch seconds (a JSON number)
register('model_consume', function(keys, args)
  local raw = redis.call('GET', keys[1])
  if not raw then return 0 end
  local current = cjson.decode(raw)['consumed']
  if current ~= nil and current ~= cjson.null and current ~= false and current ~= 0 and current ~= '' then return 0 end
  local member = '"consumed":' .. args[1]
  local consumed
  if raw == '{}' then consumed = '{' .. member .. '}' else consumed = string.sub(raw, 1, -2) .. ',' .. member .. '}' end
  redis.call('SET', keys[1], consumed, 'KEEPTTL')
  return 1
end)

-- Deletes every record of a grant and the grant set itself. The records' keys are the set's
-- members, written by model_upsert from keys TypeScript built: the documented exception of a
-- key read from data rather than passed. KEYS: grantSet
register('model_revoke_grant', function(keys)
  local members = redis.call('SMEMBERS', keys[1])
  for _, key in ipairs(members) do redis.call('DEL', key) end
  redis.call('DEL', keys[1])
  return #members
end)
