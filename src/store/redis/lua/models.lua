-- oidc-provider's records (src/store/redis/models.ts).

-- Upsert of one model record and its indexes. Every key is written with `SET … PX`, never SET
-- then PEXPIRE, so no key (even one that had just expired) is ever left without its TTL. A TTL
-- of zero or less deletes the record (Redis refuses `PX 0`). The grant set's TTL is only ever
-- extended, never shortened, so it outlives every member it lists.
-- KEYS: record, uidIndex|'', userCodeIndex|'', grantSet|''   ARGV: json, ttlMs|'', id
register('model_upsert', function(keys, args)
  local ttl = tonumber(args[2])
  if ttl and ttl <= 0 then
    redis.call('DEL', keys[1])
    return 0
  end
  if ttl then redis.call('SET', keys[1], args[1], 'PX', ttl) else redis.call('SET', keys[1], args[1]) end
  for i = 2, 3 do
    if keys[i] ~= '' then
      if ttl then redis.call('SET', keys[i], args[3], 'PX', ttl) else redis.call('SET', keys[i], args[3]) end
    end
  end
  if keys[4] ~= '' then
    -- PTTL before SADD: -2 (no set yet), -1 (a member never expires), else ms left.
    local current = redis.call('PTTL', keys[4])
    redis.call('SADD', keys[4], keys[1])
    if not ttl then
      redis.call('PERSIST', keys[4])
    elseif current == -2 or (current ~= -1 and current < ttl) then
      redis.call('PEXPIRE', keys[4], ttl)
    end
  end
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
