-- The audit stream (src/store/redis/audit.ts).

-- Appends an event stamped with the shared clock: the stream id's ms part is the shared now
-- (the pinned test time if any, else the server's TIME), never below the newest id so ids stay
-- ordered; Redis numbers the sequence part. KEYS: stream  ARGV: json
register('audit_append', function(keys, args)
  local now = now_ms()
  local top = redis.call('XREVRANGE', keys[1], '+', '-', 'COUNT', 1)
  if top[1] then
    local last = tonumber(string.match(top[1][1], '^(%d+)-'))
    if last > now then now = last end
  end
  return redis.call('XADD', keys[1], 'MAXLEN', '~', 1000000, string.format('%.0f', now) .. '-*', 'e', args[1])
end)
