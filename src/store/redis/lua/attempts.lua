-- Attempt limiters (src/store/redis/attempts.ts).

-- One attempt counter, judged and changed in one step by the shared clock. The hash holds `n`
-- (attempts reserved and not refunded) and `until` (shared-clock ms at which the window or
-- block ends). `until` decides, not the key's TTL: a pinned (test) clock may run ahead of Redis'
-- own; the relative PEXPIRE only cleans up.
-- KEYS: counter  ARGV: op ('check'|'reserve'|'refund'), points, windowMs, blockMs
-- Returns { blocked|granted (0/1), msLeft, last (0/1) }.
register('attempt', function(keys, args)
  local now = now_ms()
  local points = tonumber(args[2])
  local n, until_ms = 0, 0
  local saved = redis.call('HMGET', keys[1], 'n', 'until')
  if saved[1] and tonumber(saved[2]) > now then
    n = tonumber(saved[1])
    until_ms = tonumber(saved[2])
  end
  local op = args[1]
  if op == 'check' then
    if n >= points then return { 1, until_ms - now, 0 } end
    return { 0, 0, 0 }
  end
  if op == 'refund' then
    if n <= 1 then
      redis.call('DEL', keys[1])
    else
      redis.call('HSET', keys[1], 'n', n - 1)
    end
    return { 0, 0, 0 }
  end
  if n >= points then return { 0, until_ms - now, 0 } end
  if n == 0 then until_ms = now + tonumber(args[3]) end
  n = n + 1
  if n >= points then until_ms = now + tonumber(args[4]) end
  redis.call('HSET', keys[1], 'n', n, 'until', until_ms)
  redis.call('PEXPIRE', keys[1], math.max(1, until_ms - now))
  if n >= points then return { 1, until_ms - now, 1 } end
  return { 1, until_ms - now, 0 }
end)
