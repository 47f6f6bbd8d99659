-- TOTP state per user (src/store/redis/mfa.ts).

-- Accepts a time step only if it is later than the last accepted one. KEYS: lastStep  ARGV: step
register('totp_use_step', function(keys, args)
  local last = tonumber(redis.call('GET', keys[1]) or '-1')
  local step = tonumber(args[1])
  if step <= last then return 0 end
  redis.call('SET', keys[1], args[1])
  return 1
end)

-- Compare-and-set: writes the enrollment and its recovery codes only if none exists.
-- KEYS: enrollment, recovery  ARGV: enrollment json, recovery hashes...
register('totp_enroll', function(keys, args)
  if redis.call('EXISTS', keys[1]) == 1 then return 0 end
  redis.call('SET', keys[1], args[1])
  redis.call('DEL', keys[2])
  if #args > 1 then redis.call('SADD', keys[2], unpack(args, 2)) end
  return 1
end)
