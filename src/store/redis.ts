import type { Redis } from 'ioredis';
import type { AuditPage, AuditQuery, AuditRecord, NewAuditRecord } from '../audit/types.ts';
import type { ClientRecord, Org, User } from '../orgs/types.ts';
import { auditBounds, idMs, matchesAudit, toPage } from './audit-query.ts';
import { compareStrings } from './order.ts';
import { createRedisAttempts } from './redis-attempts.ts';
import { createRedisSessions, defineSessionScripts, NOW_MS_LUA } from './redis-sessions.ts';
import { createRedisMfa } from './redis-mfa.ts';
import { createRedisDeliveries } from './redis-deliveries.ts';
import { createRedisOutbox } from './redis-outbox.ts';
import { CLIENT_ID_UNAVAILABLE } from './client-tombstone.ts';
import { guardStore } from './store-unavailable.ts';
import { openRedis, type RedisTarget, type SentinelTarget } from './redis-connection.ts';
import {
  ConflictError,
  type AuditStore,
  type ClientTombstone,
  type DirectoryStore,
  type ModelPayload,
  type ModelStore,
  type SecretStore,
  type Store,
  type StoreMarker,
} from './types.ts';

/**
 * Upsert of one model record and its indexes in one round trip. Every key is written with
 * `SET … PX`, never `SET` then `PEXPIRE`, so no key (even one that had just expired) is ever
 * left without its TTL. A TTL of zero or less deletes the record (Redis refuses `PX 0`). The
 * grant set's TTL is only ever extended, never shortened, so it outlives every member it lists.
 * KEYS: record, uidIndex|'', userCodeIndex|'', grantSet|''   ARGV: json, ttlMs|'', id
 */
const UPSERT = `
local ttl = tonumber(ARGV[2])
if ttl and ttl <= 0 then
  redis.call('DEL', KEYS[1])
  return 0
end
if ttl then redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl) else redis.call('SET', KEYS[1], ARGV[1]) end
for i = 2, 3 do
  if KEYS[i] ~= '' then
    if ttl then redis.call('SET', KEYS[i], ARGV[3], 'PX', ttl) else redis.call('SET', KEYS[i], ARGV[3]) end
  end
end
if KEYS[4] ~= '' then
  -- PTTL before SADD: -2 (no set yet), -1 (a member never expires), else ms left.
  local current = redis.call('PTTL', KEYS[4])
  redis.call('SADD', KEYS[4], KEYS[1])
  if not ttl then
    redis.call('PERSIST', KEYS[4])
  elseif current == -2 or (current ~= -1 and current < ttl) then
    redis.call('PEXPIRE', KEYS[4], ttl)
  end
end
return 1`;

/**
 * Marks a record consumed, keeping its remaining TTL (KEEPTTL). The payload is spliced as
 * text rather than re-encoded: Redis's cjson would turn every empty array into `{}` and round
 * numbers to 14 digits. JSON.stringify writes objects without trailing space, so appending a
 * member before the closing brace is exact; should a falsy `consumed` already be there, the
 * appended one comes last, and JSON.parse keeps the last. A truthy one is kept: the first
 * consumption is the fact, a replay does not move it.
 * KEYS: record  ARGV: epoch seconds (a JSON number)
 */
const CONSUME = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local current = cjson.decode(raw)['consumed']
if current ~= nil and current ~= cjson.null and current ~= false and current ~= 0 and current ~= '' then return 0 end
local member = '"consumed":' .. ARGV[1]
local consumed
if raw == '{}' then consumed = '{' .. member .. '}' else consumed = string.sub(raw, 1, -2) .. ',' .. member .. '}' end
redis.call('SET', KEYS[1], consumed, 'KEEPTTL')
return 1`;

/** Deletes every record of a grant and the grant set itself. KEYS: grantSet */
const REVOKE_GRANT = `
local members = redis.call('SMEMBERS', KEYS[1])
for _, key in ipairs(members) do redis.call('DEL', key) end
redis.call('DEL', KEYS[1])
return #members`;

/**
 * Creates or replaces a user, keeping the org's username index consistent: a name another id
 * holds is a conflict; a rename frees the old name; a user never changes org.
 * KEYS: userKey, orgUsernames(hash), orgUsers(set)  ARGV: json, id, username, org
 * Returns 'ok', 'conflict' or 'org_change'.
 */
const PUT_USER = `
local raw = redis.call('GET', KEYS[1])
local old = raw and cjson.decode(raw)
if old and old['org'] ~= ARGV[4] then return 'org_change' end
local holder = redis.call('HGET', KEYS[2], ARGV[3])
if holder and holder ~= ARGV[2] then return 'conflict' end
if old and old['username'] ~= ARGV[3] and redis.call('HGET', KEYS[2], old['username']) == ARGV[2] then
  redis.call('HDEL', KEYS[2], old['username'])
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[2])
return 'ok'`;

/**
 * Deletes a user and its index entries. The caller read the org first (its index keys depend
 * on it); 'moved' means the user was deleted and recreated in another org meanwhile.
 * KEYS: userKey, orgUsernames(hash), orgUsers(set)  ARGV: id, org.  Returns 'deleted', 'missing' or 'moved'.
 */
const DELETE_USER = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 'missing' end
local old = cjson.decode(raw)
if old['org'] ~= ARGV[2] then return 'moved' end
if redis.call('HGET', KEYS[2], old['username']) == ARGV[1] then redis.call('HDEL', KEYS[2], old['username']) end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[3], ARGV[1])
return 'deleted'`;

/**
 * Creates (ARGV[4] = 'create': the id must be unused) or replaces (the id must be this org's)
 * a client. A tombstoned id is refused either way: deleted ids are never reused.
 * KEYS: clientKey, orgClients(set), tombstone  ARGV: json, org, clientId, mode.  Returns 'ok' or 'conflict'.
 */
const PUT_CLIENT = `
if redis.call('EXISTS', KEYS[3]) == 1 then return 'conflict' end
local raw = redis.call('GET', KEYS[1])
if raw and (ARGV[4] == 'create' or cjson.decode(raw)['org'] ~= ARGV[2]) then return 'conflict' end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[3])
return 'ok'`;

/**
 * As DELETE_USER, and leaves the client's tombstone (the fields of tombstoneOf) in the same step.
 * KEYS: clientKey, orgClients(set), tombstone  ARGV: clientId, org, deletedAt (ISO).
 * Returns the deleted record's JSON, 'missing' or 'moved'.
 */
const DELETE_CLIENT = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 'missing' end
local old = cjson.decode(raw)
if old['org'] ~= ARGV[2] then return 'moved' end
local tomb = { client_id = ARGV[1], org = old['org'], id_token_signed_response_alg = old['id_token_signed_response_alg'], deletedAt = ARGV[3] }
if type(old['backchannel_logout_uri']) == 'string' and old['backchannel_logout_uri'] ~= '' then tomb['backchannel_logout_uri'] = old['backchannel_logout_uri'] end
redis.call('SET', KEYS[3], cjson.encode(tomb))
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return raw`;

/**
 * Appends an audit event stamped with the shared clock: the stream id's ms part is the
 * shared now (the pinned test time if any, else the server's TIME), never below the newest
 * id so ids stay ordered; Redis numbers the sequence part.
 * KEYS: stream, pin|''  ARGV: json
 */
const AUDIT_APPEND = `${NOW_MS_LUA}
local now = now_ms(KEYS[2])
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if top[1] then
  local last = tonumber(string.match(top[1][1], '^(%d+)-'))
  if last > now then now = last end
end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', 1000000, string.format('%.0f', now) .. '-*', 'e', ARGV[1])`;

/** Deletes a claim only if its holder still holds it. KEYS: claim  ARGV: holder */
const RELEASE_CLAIM = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

interface Scripts {
  curfewUpsert(r: string, u: string, c: string, g: string, json: string, ttl: string, id: string): Promise<number>;
  curfewConsume(key: string, at: string): Promise<number>;
  curfewRevokeGrant(key: string): Promise<number>;
  curfewPutUser(user: string, names: string, set: string, json: string, id: string, username: string, org: string): Promise<string>;
  curfewDeleteUser(user: string, names: string, set: string, id: string, org: string): Promise<string>;
  curfewPutClient(client: string, set: string, tombstone: string, json: string, org: string, id: string, mode: 'create' | 'put'): Promise<string>;
  curfewDeleteClient(client: string, set: string, tombstone: string, id: string, org: string, deletedAt: string): Promise<string>;
  curfewAuditAppend(stream: string, pin: string, json: string): Promise<string>;
  curfewReleaseClaim(claim: string, holder: string): Promise<number>;
}

type CurfewRedis = Redis & Scripts;

/**
 * How long one command may wait for its answer. A frozen network (no reset, no close) would
 * otherwise hold a command, and the request behind it, forever; past this the request answers
 * 503 temporarily_unavailable. Every command Curfew sends is O(small) and non-blocking.
 */
export const COMMAND_TIMEOUT_MS = 2_000;

function connect(target: RedisTarget, commandTimeout: number): CurfewRedis {
  const redis = openRedis(target, {
    // A request fails after two reconnect attempts instead of waiting forever: a dead Redis
    // must surface as an error (and /readyz 503), not a hung sign-in. The offline queue stays
    // on so the commands of the first request, sent before the socket is up, are not refused.
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectTimeout: 5_000,
    commandTimeout,
    lazyConnect: false,
  }) as CurfewRedis;
  redis.on('error', () => {
    // Connection errors are reported through the failing commands; ioredis reconnects itself.
  });
  redis.defineCommand('curfewUpsert', { numberOfKeys: 4, lua: UPSERT });
  redis.defineCommand('curfewConsume', { numberOfKeys: 1, lua: CONSUME });
  redis.defineCommand('curfewRevokeGrant', { numberOfKeys: 1, lua: REVOKE_GRANT });
  redis.defineCommand('curfewPutUser', { numberOfKeys: 3, lua: PUT_USER });
  redis.defineCommand('curfewDeleteUser', { numberOfKeys: 3, lua: DELETE_USER });
  redis.defineCommand('curfewPutClient', { numberOfKeys: 3, lua: PUT_CLIENT });
  redis.defineCommand('curfewDeleteClient', { numberOfKeys: 3, lua: DELETE_CLIENT });
  redis.defineCommand('curfewAuditAppend', { numberOfKeys: 2, lua: AUDIT_APPEND });
  redis.defineCommand('curfewReleaseClaim', { numberOfKeys: 1, lua: RELEASE_CLAIM });
  return redis;
}

const parse = <T>(raw: string | null): T | undefined => (raw === null ? undefined : (JSON.parse(raw) as T));

/** Whole milliseconds for `PX`, which takes integers only. */
const ttlMs = (seconds: number | undefined) => (seconds === undefined ? '' : String(Math.ceil(seconds * 1000)));

function createModelStore(redis: CurfewRedis, p: string): ModelStore {
  const record = (model: string, id: string) => `${p}m:${model}:${id}`;
  const index = (model: string, kind: 'uid' | 'userCode', value: string) => `${p}m:${model}:${kind}:${value}`;
  const find = async (key: string) => parse<ModelPayload>(await redis.get(key));
  const byIndex = async (model: string, kind: 'uid' | 'userCode', value: string) => {
    const id = await redis.get(index(model, kind, value));
    return id === null ? undefined : find(record(model, id));
  };
  return {
    async upsert(model, id, payload, expiresInSeconds, indexes) {
      await redis.curfewUpsert(
        record(model, id),
        indexes.uid ? index(model, 'uid', indexes.uid) : '',
        indexes.userCode ? index(model, 'userCode', indexes.userCode) : '',
        indexes.grantId ? `${p}grant:${indexes.grantId}` : '',
        JSON.stringify(payload),
        ttlMs(expiresInSeconds),
        id,
      );
    },
    find: (model, id) => find(record(model, id)),
    findByUid: (model, uid) => byIndex(model, 'uid', uid),
    findByUserCode: (model, userCode) => byIndex(model, 'userCode', userCode),
    async consume(model, id, at) {
      // The script splices the number into JSON text: only a finite number may go there.
      if (!Number.isFinite(at)) throw new RangeError(`consume needs epoch seconds, got ${at}`);
      await redis.curfewConsume(record(model, id), String(at));
    },
    async destroy(model, id) {
      await redis.del(record(model, id));
    },
    async revokeByGrantId(grantId) {
      await redis.curfewRevokeGrant(`${p}grant:${grantId}`);
    },
  };
}

/**
 * Runs a delete script against the index keys of the record's org. The org is read first;
 * should the record be recreated in another org in between ('moved'), the read is repeated.
 */
async function deleteIndexed(readOrg: () => Promise<string | undefined>, remove: (org: string) => Promise<string>): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const org = await readOrg();
    if (org === undefined || (await remove(org)) !== 'moved') return;
  }
  throw new Error('record kept moving between orgs while being deleted');
}

function createDirectory(redis: CurfewRedis, p: string): DirectoryStore {
  const k = {
    org: (id: string) => `${p}org:${id}`,
    orgs: `${p}orgs`,
    user: (id: string) => `${p}user:${id}`,
    usernames: (org: string) => `${p}org:${org}:usernames`,
    users: (org: string) => `${p}org:${org}:users`,
    client: (id: string) => `${p}client:${id}`,
    clients: (org: string) => `${p}org:${org}:clients`,
    tombstone: (id: string) => `${p}client-tombstone:${id}`,
  };
  const many = async <T>(keys: string[]): Promise<T[]> =>
    keys.length ? (await redis.mget(...keys)).flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as T])) : [];

  return {
    getOrg: async (id) => parse<Org>(await redis.get(k.org(id))),
    async listOrgs() {
      const ids = await redis.smembers(k.orgs);
      return (await many<Org>(ids.map(k.org))).sort((a, b) => compareStrings(a.id, b.id));
    },
    async putOrg(org) {
      await redis.multi().set(k.org(org.id), JSON.stringify(org)).sadd(k.orgs, org.id).exec();
    },
    getUser: async (id) => parse<User>(await redis.get(k.user(id))),
    async findUserByName(org, username) {
      const id = await redis.hget(k.usernames(org), username);
      return id === null ? undefined : parse<User>(await redis.get(k.user(id)));
    },
    async listUsers(org) {
      const ids = await redis.smembers(k.users(org));
      return (await many<User>(ids.map(k.user))).sort((a, b) => compareStrings(a.username, b.username));
    },
    async putUser(user) {
      const result = await redis.curfewPutUser(k.user(user.id), k.usernames(user.org), k.users(user.org), JSON.stringify(user), user.id, user.username, user.org);
      if (result === 'conflict') throw new ConflictError('username', `username "${user.username}" is taken in org ${user.org}`);
      if (result === 'org_change') throw new Error(`user ${user.id} belongs to another org; a user never changes org`);
    },
    async deleteUser(id) {
      await deleteIndexed(
        async () => parse<User>(await redis.get(k.user(id)))?.org,
        (org) => redis.curfewDeleteUser(k.user(id), k.usernames(org), k.users(org), id, org),
      );
    },
    getClient: async (id) => parse<ClientRecord>(await redis.get(k.client(id))),
    async listClients(org) {
      const ids = await redis.smembers(k.clients(org));
      return (await many<ClientRecord>(ids.map(k.client))).sort((a, b) => compareStrings(a.client_id, b.client_id));
    },
    async createClient(client) {
      const result = await redis.curfewPutClient(k.client(client.client_id), k.clients(client.org), k.tombstone(client.client_id), JSON.stringify(client), client.org, client.client_id, 'create');
      if (result === 'conflict') throw new ConflictError('client_id', CLIENT_ID_UNAVAILABLE);
    },
    async putClient(client) {
      const result = await redis.curfewPutClient(k.client(client.client_id), k.clients(client.org), k.tombstone(client.client_id), JSON.stringify(client), client.org, client.client_id, 'put');
      if (result === 'conflict') throw new ConflictError('client_id', CLIENT_ID_UNAVAILABLE);
    },
    async deleteClient(clientId) {
      let deleted: ClientRecord | undefined;
      await deleteIndexed(
        async () => parse<ClientRecord>(await redis.get(k.client(clientId)))?.org,
        async (org) => {
          const result = await redis.curfewDeleteClient(k.client(clientId), k.clients(org), k.tombstone(clientId), clientId, org, new Date().toISOString());
          if (result === 'missing' || result === 'moved') return result;
          deleted = JSON.parse(result) as ClientRecord;
          return 'deleted';
        },
      );
      return deleted;
    },
    getClientTombstone: async (id) => parse<ClientTombstone>(await redis.get(k.tombstone(id))),
  };
}

function createSecrets(redis: CurfewRedis, p: string): SecretStore {
  return {
    async getOrCreate(name, create) {
      const key = `${p}secret:${name}`;
      // SET NX: of concurrent first starts, exactly one value wins and everyone reads it back.
      await redis.set(key, create(), 'NX');
      const value = await redis.get(key);
      if (value === null) throw new Error(`secret ${name} vanished right after it was stored`);
      return value;
    },
  };
}

function createMarker(redis: CurfewRedis, p: string): StoreMarker {
  const key = `${p}marker`;
  return {
    read: async () => (await redis.get(key)) ?? undefined,
    async settle(value) {
      // SET NX GET (Redis 7): one step, returns the marker that was there, or nil when ours is now.
      const held = await redis.set(key, value, 'NX', 'GET');
      return held ?? value;
    },
    async claimRestore(holder, ms) {
      return (await redis.set(`${p}marker:restore`, holder, 'PX', Math.max(1, Math.ceil(ms)), 'NX')) === 'OK';
    },
    async releaseRestore(holder) {
      await redis.curfewReleaseClaim(`${p}marker:restore`, holder);
    },
  };
}

/** Stream entries read per XREVRANGE while filtering in the client. */
const PAGE = 200;

function toAuditRecord(id: string, fields: string[]): AuditRecord {
  const at = fields.indexOf('e');
  if (at < 0 || at % 2 !== 0 || fields[at + 1] === undefined) throw new Error(`audit entry ${id} has no event field`);
  const event = JSON.parse(fields[at + 1]!) as NewAuditRecord;
  return { ...event, id, at: new Date(idMs(id)).toISOString() };
}

function createAuditStore(redis: CurfewRedis, p: string, pinKey: string): AuditStore {
  const stream = (org: string | undefined) => `${p}audit:${org ?? '_'}`;
  return {
    async append(event) {
      const json = JSON.stringify(event);
      const id = await redis.curfewAuditAppend(stream(event.org), pinKey, json);
      return toAuditRecord(id, ['e', json]);
    },
    async query(query: AuditQuery): Promise<AuditPage> {
      const { before, sinceMs } = auditBounds(query);
      // `since` bounds the scan itself: an id of just `<ms>` means `<ms>-0`, inclusive.
      const floor = sinceMs === undefined ? '-' : String(Math.max(0, sinceMs));
      let end = before === undefined ? '+' : `(${before}`;
      const matches: AuditRecord[] = [];
      // Newest first, page by page, until one match more than the limit or the stream's end.
      for (;;) {
        const batch = (await redis.xrevrange(stream(query.org), end, floor, 'COUNT', PAGE)) as [string, string[]][];
        for (const [id, fields] of batch) {
          const record = toAuditRecord(id, fields);
          if (matchesAudit(record, query) && matches.push(record) > query.limit) break;
        }
        if (matches.length > query.limit || batch.length < PAGE) break;
        end = `(${batch.at(-1)![0]}`;
      }
      return toPage(matches, query.limit);
    },
  };
}

export interface RedisStoreOptions {
  url: string;
  /** Find the primary through these sentinels (see RedisTarget); `url` then gives credentials and database. */
  sentinel?: SentinelTarget;
  /** Every key lives under it; default `curfew:`. */
  prefix?: string;
  /**
   * Tests only: while `<prefix>clock:pinned` holds epoch milliseconds, the shared clock reads
   * that instead of Redis TIME, so a suite sets every instance's time at once, to the ms.
   */
  pinnableClock?: boolean;
  /** See {@link COMMAND_TIMEOUT_MS}; tests of outages shorten it. */
  commandTimeoutMs?: number;
}

/**
 * Every piece of Curfew's state in Redis, under one key prefix. Each write of one record (with
 * its indexes) is one Lua script or MULTI: atomic across instances and one round trip. TTLs
 * are Redis's own (`PX`, judged by the server), `consume` keeps the remaining TTL, and `now()`
 * is the server's TIME, the clock every instance shares. A missing Redis fails a command after
 * two reconnect attempts, a silent one after COMMAND_TIMEOUT_MS, rather than hanging it; either
 * way as StoreUnavailableError.
 */
export function createRedisStore(options: RedisStoreOptions): Store {
  const p = options.prefix ?? 'curfew:';
  const target: RedisTarget = { url: options.url, ...(options.sentinel ? { sentinel: options.sentinel } : {}) };
  const redis = connect(target, options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS);
  const sessionRedis = defineSessionScripts(redis);
  const pinKey = options.pinnableClock ? `${p}clock:pinned` : '';
  // One boundary: a command Redis could not answer fails as StoreUnavailableError, whichever part asked.
  return guardStore<Store>({
    kind: 'redis',
    models: createModelStore(redis, p),
    directory: createDirectory(redis, p),
    secrets: createSecrets(redis, p),
    marker: createMarker(redis, p),
    audit: createAuditStore(redis, p, pinKey),
    sessions: createRedisSessions(sessionRedis, p, pinKey),
    mfa: createRedisMfa(redis, p),
    deliveries: createRedisDeliveries(redis, p, pinKey),
    ended: createRedisOutbox(redis, p, pinKey),
    rateLimiter: createRedisAttempts(redis, p, pinKey),
    async now() {
      return Number(await sessionRedis.curfewNow(pinKey));
    },
    async ping() {
      await redis.ping();
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  });
}
