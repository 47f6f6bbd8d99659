import type { Redis } from 'ioredis';
import type { ClientRecord, Org, User } from '../../orgs/types.ts';
import { CLIENT_ID_UNAVAILABLE } from '../client-tombstone.ts';
import { compareStrings } from '../order.ts';
import { ConflictError, type ClientTombstone, type DirectoryStore } from '../types.ts';

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

type DirectoryRedis = Redis & {
  curfewPutUser(user: string, names: string, set: string, json: string, id: string, username: string, org: string): Promise<string>;
  curfewDeleteUser(user: string, names: string, set: string, id: string, org: string): Promise<string>;
  curfewPutClient(client: string, set: string, tombstone: string, json: string, org: string, id: string, mode: 'create' | 'put'): Promise<string>;
  curfewDeleteClient(client: string, set: string, tombstone: string, id: string, org: string, deletedAt: string): Promise<string>;
};

const parse = <T>(raw: string | null): T | undefined => (raw === null ? undefined : (JSON.parse(raw) as T));

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

export function createRedisDirectory(client: Redis, p: string): DirectoryStore {
  const redis = client as DirectoryRedis;
  redis.defineCommand('curfewPutUser', { numberOfKeys: 3, lua: PUT_USER });
  redis.defineCommand('curfewDeleteUser', { numberOfKeys: 3, lua: DELETE_USER });
  redis.defineCommand('curfewPutClient', { numberOfKeys: 3, lua: PUT_CLIENT });
  redis.defineCommand('curfewDeleteClient', { numberOfKeys: 3, lua: DELETE_CLIENT });
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
