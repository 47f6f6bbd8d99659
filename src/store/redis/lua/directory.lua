-- Orgs, users and clients with their per-org indexes (src/store/redis/directory.ts).

-- Creates or replaces a user, keeping the org's username index consistent: a name another id
-- holds is a conflict; a rename frees the old name; a user never changes org.
-- KEYS: user, orgUsernames(hash), orgUsers(set)  ARGV: json, id, username, org
-- Returns 'ok', 'conflict' or 'org_change'.
register('user_put', function(keys, args)
  local old = load_json(keys[1])
  if old and old['org'] ~= args[4] then return 'org_change' end
  local holder = redis.call('HGET', keys[2], args[3])
  if holder and holder ~= args[2] then return 'conflict' end
  if old and old['username'] ~= args[3] and redis.call('HGET', keys[2], old['username']) == args[2] then
    redis.call('HDEL', keys[2], old['username'])
  end
  redis.call('SET', keys[1], args[1])
  redis.call('HSET', keys[2], args[3], args[2])
  redis.call('SADD', keys[3], args[2])
  return 'ok'
end)

-- Compare-and-set of a user's or client's record (DirectoryStore.updateUser, updateClient):
-- written only if the record is still byte for byte the one the caller changed, so no concurrent
-- write is overwritten. What indexes hold it by (org, username) is unchanged by contract, so the
-- indexes stay as they are; a deleted record stays deleted ('missing').
-- KEYS: record  ARGV: expected json, new json.  Returns 'ok', 'changed' or 'missing'.
register('record_replace_if', function(keys, args)
  local raw = redis.call('GET', keys[1])
  if not raw then return 'missing' end
  if raw ~= args[1] then return 'changed' end
  redis.call('SET', keys[1], args[2])
  return 'ok'
end)

-- Deletes a user and its index entries. The caller read the org first (its index keys depend
-- on it); 'moved' means the user was deleted and recreated in another org meanwhile.
-- KEYS: user, orgUsernames(hash), orgUsers(set)  ARGV: id, org.  Returns 'deleted', 'missing' or 'moved'.
register('user_delete', function(keys, args)
  local old = load_json(keys[1])
  if not old then return 'missing' end
  if old['org'] ~= args[2] then return 'moved' end
  if redis.call('HGET', keys[2], old['username']) == args[1] then redis.call('HDEL', keys[2], old['username']) end
  redis.call('DEL', keys[1])
  redis.call('SREM', keys[3], args[1])
  return 'deleted'
end)

-- Creates (mode 'create': the id must be unused) or replaces (the id must be this org's) a
-- client. A tombstoned id is refused either way: deleted ids are never reused.
-- KEYS: client, orgClients(set), tombstone  ARGV: json, org, clientId, mode.  Returns 'ok' or 'conflict'.
register('client_put', function(keys, args)
  if redis.call('EXISTS', keys[3]) == 1 then return 'conflict' end
  local old = load_json(keys[1])
  if old and (args[4] == 'create' or old['org'] ~= args[2]) then return 'conflict' end
  redis.call('SET', keys[1], args[1])
  redis.call('SADD', keys[2], args[3])
  return 'ok'
end)

-- As user_delete, and leaves the client's tombstone (the fields of tombstoneOf in
-- src/store/client-tombstone.ts) in the same step.
-- KEYS: client, orgClients(set), tombstone  ARGV: clientId, org, deletedAt (ISO).
-- Returns { 'deleted', the record's JSON }, { 'missing' } or { 'moved' }.
register('client_delete', function(keys, args)
  local raw = redis.call('GET', keys[1])
  if not raw then return { 'missing' } end
  local old = cjson.decode(raw)
  if old['org'] ~= args[2] then return { 'moved' } end
  local tomb = { client_id = args[1], org = old['org'], id_token_signed_response_alg = old['id_token_signed_response_alg'], deletedAt = args[3] }
  if type(old['backchannel_logout_uri']) == 'string' and old['backchannel_logout_uri'] ~= '' then tomb['backchannel_logout_uri'] = old['backchannel_logout_uri'] end
  redis.call('SET', keys[3], cjson.encode(tomb))
  redis.call('DEL', keys[1])
  redis.call('SREM', keys[2], args[1])
  return { 'deleted', raw }
end)
