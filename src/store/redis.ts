import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import type { AuditPage, AuditQuery, AuditRecord, NewAuditRecord } from '../audit/types.ts';
import type { ClientRecord, Org, User } from '../orgs/types.ts';
import { decodeCursor, encodeCursor, matchesAudit } from './audit-query.ts';
import { wrapLimiter } from './memory.ts';
import { createRedisSessions, defineSessionScripts } from './redis-sessions.ts';
import { createRedisMfa } from './redis-mfa.ts';
import { createRedisDeliveries } from './redis-deliveries.ts';
import {
  ConflictError,
  type AuditStore,
  type DirectoryStore,
  type ModelStore,
  type RateLimitOptions,
  type SecretStore,
  type Store,
} from './types.ts';

/**
 * Upsert of one model record and its indexes in one round trip. The grant set's TTL is only
 * ever extended, never shortened, so it outlives every member it lists.
 * KEYS: record, uidIndex|'', userCodeIndex|'', grantSet|''   ARGV: json, ttlMs|'' , id
 */
const UPSERT = `
local ttl = tonumber(ARGV[2])
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

/** Marks a record consumed, keeping its remaining TTL. KEYS: record  ARGV: epoch seconds */
const CONSUME = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local payload = cjson.decode(raw)
payload['consumed'] = tonumber(ARGV[1])
redis.call('SET', KEYS[1], cjson.encode(payload), 'KEEPTTL')
return 1`;

/** Deletes every record of a grant and the grant set itself. KEYS: grantSet */
const REVOKE_GRANT = `
local members = redis.call('SMEMBERS', KEYS[1])
for _, key in ipairs(members) do redis.call('DEL', key) end
redis.call('DEL', KEYS[1])
return #members`;

/**
 * Creates or replaces a user, keeping the per-org username index consistent.
 * KEYS: userKey, orgUsernames(hash), orgUsers(set)  ARGV: json, id, username, org
 * Returns 'ok', 'conflict' or 'org_change'.
 */
const PUT_USER = `
local holder = redis.call('HGET', KEYS[2], ARGV[3])
if holder and holder ~= ARGV[2] then return 'conflict' end
local raw = redis.call('GET', KEYS[1])
if raw then
  local old = cjson.decode(raw)
  if old['org'] ~= ARGV[4] then return 'org_change' end
  if old['username'] ~= ARGV[3] then redis.call('HDEL', KEYS[2], old['username']) end
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[2])
return 'ok'`;

/** KEYS: clientKey, orgClients(set)  ARGV: json, org, clientId.  Returns 'ok' or 'conflict'. */
const PUT_CLIENT = `
local raw = redis.call('GET', KEYS[1])
if raw and cjson.decode(raw)['org'] ~= ARGV[2] then return 'conflict' end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[3])
return 'ok'`;

/** Appends an audit event; its time is the Redis server's (the stream id). KEYS: stream  ARGV: json */
const AUDIT_APPEND = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', 1000000, '*', 'e', ARGV[1])
return id`;

interface Scripts {
  curfewUpsert(r: string, u: string, c: string, g: string, json: string, ttl: string, id: string): Promise<number>;
  curfewConsume(key: string, at: string): Promise<number>;
  curfewRevokeGrant(key: string): Promise<number>;
  curfewPutUser(user: string, names: string, set: string, json: string, id: string, username: string, org: string): Promise<string>;
  curfewPutClient(client: string, set: string, json: string, org: string, id: string): Promise<string>;
  curfewAuditAppend(stream: string, json: string): Promise<string>;
}

type CurfewRedis = Redis & Scripts;

function connect(url: string): CurfewRedis {
  const redis = new Redis(url, {
    // A request fails after two reconnect attempts instead of waiting forever: a dead Redis
    // must surface as an error (and /readyz 503), not a hung sign-in.
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    lazyConnect: false,
  }) as CurfewRedis;
  redis.on('error', () => {
    // Connection errors are reported through the failing commands; ioredis reconnects itself.
  });
  redis.defineCommand('curfewUpsert', { numberOfKeys: 4, lua: UPSERT });
  redis.defineCommand('curfewConsume', { numberOfKeys: 1, lua: CONSUME });
  redis.defineCommand('curfewRevokeGrant', { numberOfKeys: 1, lua: REVOKE_GRANT });
  redis.defineCommand('curfewPutUser', { numberOfKeys: 3, lua: PUT_USER });
  redis.defineCommand('curfewPutClient', { numberOfKeys: 2, lua: PUT_CLIENT });
  redis.defineCommand('curfewAuditAppend', { numberOfKeys: 1, lua: AUDIT_APPEND });
  return redis;
}

const parse = <T>(raw: string | null): T | undefined => (raw === null ? undefined : (JSON.parse(raw) as T));

function createModelStore(redis: CurfewRedis, p: string): ModelStore {
  const record = (model: string, id: string) => `${p}m:${model}:${id}`;
  const find = async (key: string) => parse<Record<string, unknown>>(await redis.get(key));
  const byIndex = async (model: string, kind: string, value: string) => {
    const id = await redis.get(`${p}m:${model}:${kind}:${value}`);
    return id === null ? undefined : find(record(model, id));
  };
  return {
    async upsert(model, id, payload, expiresInSeconds, indexes) {
      await redis.curfewUpsert(
        record(model, id),
        indexes.uid ? `${p}m:${model}:uid:${indexes.uid}` : '',
        indexes.userCode ? `${p}m:${model}:userCode:${indexes.userCode}` : '',
        indexes.grantId ? `${p}grant:${indexes.grantId}` : '',
        JSON.stringify(payload),
        expiresInSeconds === undefined ? '' : String(expiresInSeconds * 1000),
        id,
      );
    },
    find: (model, id) => find(record(model, id)),
    findByUid: (model, uid) => byIndex(model, 'uid', uid),
    findByUserCode: (model, userCode) => byIndex(model, 'userCode', userCode),
    async consume(model, id, at) {
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

function createDirectory(redis: CurfewRedis, p: string): DirectoryStore {
  const k = {
    org: (id: string) => `${p}org:${id}`,
    orgs: `${p}orgs`,
    user: (id: string) => `${p}user:${id}`,
    usernames: (org: string) => `${p}org:${org}:usernames`,
    users: (org: string) => `${p}org:${org}:users`,
    client: (id: string) => `${p}client:${id}`,
    clients: (org: string) => `${p}org:${org}:clients`,
  };
  const many = async <T>(keys: string[]): Promise<T[]> =>
    keys.length ? (await redis.mget(...keys)).flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as T])) : [];

  return {
    getOrg: async (id) => parse<Org>(await redis.get(k.org(id))),
    async listOrgs() {
      const ids = await redis.smembers(k.orgs);
      return (await many<Org>(ids.map(k.org))).sort((a, b) => a.id.localeCompare(b.id));
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
      return (await many<User>(ids.map(k.user))).sort((a, b) => a.username.localeCompare(b.username));
    },
    async putUser(user) {
      const result = await redis.curfewPutUser(k.user(user.id), k.usernames(user.org), k.users(user.org), JSON.stringify(user), user.id, user.username, user.org);
      if (result === 'conflict') throw new ConflictError('username', `username "${user.username}" is taken in org ${user.org}`);
      if (result === 'org_change') throw new Error(`user ${user.id} belongs to another org; a user never changes org`);
    },
    async deleteUser(id) {
      const user = parse<User>(await redis.get(k.user(id)));
      if (!user) return;
      await redis.multi().del(k.user(id)).hdel(k.usernames(user.org), user.username).srem(k.users(user.org), id).exec();
    },
    getClient: async (id) => parse<ClientRecord>(await redis.get(k.client(id))),
    async listClients(org) {
      const ids = await redis.smembers(k.clients(org));
      return (await many<ClientRecord>(ids.map(k.client))).sort((a, b) => a.client_id.localeCompare(b.client_id));
    },
    async putClient(client) {
      const result = await redis.curfewPutClient(k.client(client.client_id), k.clients(client.org), JSON.stringify(client), client.org, client.client_id);
      if (result === 'conflict') throw new ConflictError('client_id', `client_id "${client.client_id}" is taken`);
    },
    async deleteClient(clientId) {
      const client = parse<ClientRecord>(await redis.get(k.client(clientId)));
      if (!client) return;
      await redis.multi().del(k.client(clientId)).srem(k.clients(client.org), clientId).exec();
    },
  };
}

function createSecrets(redis: CurfewRedis, p: string): SecretStore {
  return {
    async getOrCreate(name, create) {
      const key = `${p}secret:${name}`;
      // SET NX: of concurrent first starts, exactly one value wins and everyone reads it back.
      await redis.set(key, create(), 'NX');
      return (await redis.get(key))!;
    },
  };
}

const PAGE = 200;

function createAuditStore(redis: CurfewRedis, p: string): AuditStore {
  const stream = (org: string | undefined) => `${p}audit:${org ?? '_'}`;
  const toRecord = (id: string, fields: string[]): AuditRecord => {
    const event = JSON.parse(fields[1]!) as NewAuditRecord;
    return { ...event, id, at: new Date(Number(id.split('-')[0])).toISOString() };
  };
  return {
    async append(event) {
      const id = await redis.curfewAuditAppend(stream(event.org), JSON.stringify(event));
      return toRecord(id, ['e', JSON.stringify(event)]);
    },
    async query(query: AuditQuery): Promise<AuditPage> {
      const after = query.cursor ? decodeCursor(query.cursor) : undefined;
      const floor = query.since ? String(Date.parse(query.since)) : '-';
      // Newest first, starting strictly before the cursor; filtered here, page by page.
      let end = after ? `(${after}` : '+';
      const items: AuditRecord[] = [];
      for (;;) {
        const batch = (await redis.xrevrange(stream(query.org), end, floor, 'COUNT', PAGE)) as [string, string[]][];
        for (const [id, fields] of batch) {
          const record = toRecord(id, fields);
          if (matchesAudit(record, query)) items.push(record);
          if (items.length > query.limit) break;
        }
        if (items.length > query.limit || batch.length < PAGE) break;
        end = `(${batch.at(-1)![0]}`;
      }
      const page = items.slice(0, query.limit);
      return items.length > query.limit ? { items: page, nextCursor: encodeCursor(page.at(-1)!.id) } : { items: page };
    },
  };
}

/**
 * Every piece of Curfew's state in Redis, under one key prefix. Multi-key writes are Lua
 * scripts or MULTI, so each is atomic and one round trip.
 */
export interface RedisStoreOptions {
  url: string;
  prefix?: string;
  /**
   * Tests only: while `<prefix>clock:pinned` holds epoch milliseconds, the shared clock reads
   * that instead of Redis TIME, so a suite sets every instance's time at once, to the ms.
   */
  pinnableClock?: boolean;
}

export function createRedisStore(options: RedisStoreOptions): Store {
  const p = options.prefix ?? 'curfew:';
  const redis = connect(options.url);
  const sessionRedis = defineSessionScripts(redis);
  const pinKey = options.pinnableClock ? `${p}clock:pinned` : '';
  return {
    kind: 'redis',
    models: createModelStore(redis, p),
    directory: createDirectory(redis, p),
    secrets: createSecrets(redis, p),
    audit: createAuditStore(redis, p),
    sessions: createRedisSessions(sessionRedis, p, pinKey),
    mfa: createRedisMfa(redis, p),
    deliveries: createRedisDeliveries(redis, p, pinKey, async () => Number(await sessionRedis.curfewNow(pinKey))),
    rateLimiter(o: RateLimitOptions) {
      const limiter = new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${p}rl:${o.name}`,
        points: o.points,
        duration: o.durationSeconds,
        blockDuration: o.blockSeconds,
      });
      return wrapLimiter(limiter, o);
    },
    async now() {
      return Number(await sessionRedis.curfewNow(pinKey));
    },
    async ping() {
      await redis.ping();
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
