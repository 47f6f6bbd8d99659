import type { ClientRecord, Org, User } from '../../orgs/types.ts';
import { CLIENT_ID_UNAVAILABLE } from '../client-tombstone.ts';
import { compareStrings } from '../order.ts';
import { ConflictError, type DirectoryStore } from '../types.ts';
import { checkedChange, UPDATE_ATTEMPTS } from '../record-update.ts';
import type { ClientTombstone } from '../../orgs/types.ts';
import { decode, oneOf, str, strings } from './decode.ts';
import type { KeySchema } from './keys.ts';
import type { FunctionCall, FunctionName } from './library.ts';
import type { RedisClient } from './connection.ts';

const parse = <T>(raw: string | null): T | undefined => (raw === null ? undefined : (JSON.parse(raw) as T));

/**
 * Runs a delete function against the index keys of the record's org. The org is read first;
 * should the record be recreated in another org in between ('moved'), the read is repeated.
 */
async function deleteIndexed(readOrg: () => Promise<string | undefined>, remove: (org: string) => Promise<string>): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const org = await readOrg();
    if (org === undefined || (await remove(org)) !== 'moved') return;
  }
  throw new Error('record kept moving between orgs while being deleted');
}

/**
 * Orgs, users and clients (lua/directory.lua). Records are Curfew's own JSON, written by this
 * module alone, and parsed back as written; the functions' replies are decoded.
 */
export function createRedisDirectory(redis: RedisClient, fn: FunctionCall, k: KeySchema): DirectoryStore {
  const outcome = oneOf('ok', 'changed', 'conflict', 'org_change', 'deleted', 'missing', 'moved');
  const call = async (name: FunctionName, keys: string[], args: string[]) => decode(outcome, await fn(name, keys, args), name);
  const many = async <T>(keys: string[]): Promise<T[]> =>
    keys.length ? (await redis.mget(...keys)).flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as T])) : [];

  /** Compare-and-set (lua record_replace_if): re-read and re-applied while another write lands in between. */
  async function replaceIf<T>(key: string, change: (record: T) => T): Promise<T | undefined> {
    for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
      const raw = await redis.get(key);
      if (raw === null) return undefined;
      const after = change(JSON.parse(raw) as T);
      const result = await call('record_replace_if', [key], [raw, JSON.stringify(after)]);
      if (result === 'ok') return after;
      if (result === 'missing') return undefined;
    }
    throw new ConflictError('record', 'the record kept changing while being updated; try again');
  }

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
      const result = await call('user_put', [k.user(user.id), k.usernames(user.org), k.users(user.org)], [JSON.stringify(user), user.id, user.username, user.org]);
      if (result === 'conflict') throw new ConflictError('username', `username "${user.username}" is taken in org ${user.org}`);
      if (result === 'org_change') throw new Error(`user ${user.id} belongs to another org; a user never changes org`);
    },
    updateUser: (id, change) => replaceIf<User>(k.user(id), (u) => checkedChange(u, change, ['id', 'org', 'username'])),
    async deleteUser(id) {
      await deleteIndexed(
        async () => parse<User>(await redis.get(k.user(id)))?.org,
        (org) => call('user_delete', [k.user(id), k.usernames(org), k.users(org)], [id, org]),
      );
    },
    getClient: async (id) => parse<ClientRecord>(await redis.get(k.client(id))),
    async listClients(org) {
      const ids = await redis.smembers(k.clients(org));
      return (await many<ClientRecord>(ids.map(k.client))).sort((a, b) => compareStrings(a.client_id, b.client_id));
    },
    async createClient(client) {
      const result = await call('client_put', [k.client(client.client_id), k.clients(client.org), k.clientTombstone(client.client_id)], [JSON.stringify(client), client.org, client.client_id, 'create']);
      if (result === 'conflict') throw new ConflictError('client_id', CLIENT_ID_UNAVAILABLE);
    },
    async putClient(client) {
      const result = await call('client_put', [k.client(client.client_id), k.clients(client.org), k.clientTombstone(client.client_id)], [JSON.stringify(client), client.org, client.client_id, 'put']);
      if (result === 'conflict') throw new ConflictError('client_id', CLIENT_ID_UNAVAILABLE);
    },
    updateClient: (clientId, change) => replaceIf<ClientRecord>(k.client(clientId), (c) => checkedChange(c, change, ['client_id', 'org'])),
    async deleteClient(clientId) {
      let deleted: ClientRecord | undefined;
      await deleteIndexed(
        async () => parse<ClientRecord>(await redis.get(k.client(clientId)))?.org,
        async (org) => {
          const reply = decode(strings, await fn('client_delete', [k.client(clientId), k.clients(org), k.clientTombstone(clientId)], [clientId, org, new Date().toISOString()]), 'client_delete');
          const [result, record] = [decode(oneOf('deleted', 'missing', 'moved'), reply[0], 'client_delete[0]'), reply[1]];
          if (result !== 'deleted') return result;
          deleted = JSON.parse(decode(str, record, 'client_delete[1]')) as ClientRecord;
          return 'deleted';
        },
      );
      return deleted;
    },
    getClientTombstone: async (id) => parse<ClientTombstone>(await redis.get(k.clientTombstone(id))),
  };
}
