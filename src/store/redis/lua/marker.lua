-- The deployment's marker (src/store/redis/marker.ts).

-- Deletes a claim only if its holder still holds it. KEYS: claim  ARGV: holder
register('claim_release', function(keys, args)
  if redis.call('GET', keys[1]) == args[1] then return redis.call('DEL', keys[1]) end
  return 0
end)
