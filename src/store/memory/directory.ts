import type { ClientRecord, Org, User } from '../../orgs/types.ts';
import { CLIENT_ID_UNAVAILABLE, tombstoneOf } from '../client-tombstone.ts';
import { compareStrings } from '../order.ts';
import { ConflictError, type DirectoryStore } from '../types.ts';
import { checkedChange } from '../record-update.ts';
import type { ClientTombstone } from '../../orgs/types.ts';

const clone = <T>(value: T): T => structuredClone(value);

/** Same rules as the Redis directory: a username index per org, a user never changes org. */
export function createMemoryDirectory(): DirectoryStore {
  const orgs = new Map<string, Org>();
  const users = new Map<string, User>();
  const clients = new Map<string, ClientRecord>();
  const tombstones = new Map<string, ClientTombstone>();
  const userIds = new Map<string, string>();
  const nameKey = (org: string, username: string) => `${org}\u0000${username}`;
  const copy = <T>(value: T | undefined) => value && clone(value);

  return {
    getOrg: async (id) => copy(orgs.get(id)),
    async listOrgs() {
      return [...orgs.values()].map(clone).sort((a, b) => compareStrings(a.id, b.id));
    },
    async putOrg(org) {
      orgs.set(org.id, clone(org));
    },
    getUser: async (id) => copy(users.get(id)),
    async findUserByName(org, username) {
      const id = userIds.get(nameKey(org, username));
      return copy(id === undefined ? undefined : users.get(id));
    },
    async listUsers(org) {
      return [...users.values()].filter((u) => u.org === org).map(clone).sort((a, b) => compareStrings(a.username, b.username));
    },
    async putUser(user) {
      const existing = users.get(user.id);
      if (existing && existing.org !== user.org) throw new Error(`user ${user.id} belongs to org ${existing.org}; a user never changes org`);
      const holder = userIds.get(nameKey(user.org, user.username));
      if (holder !== undefined && holder !== user.id) throw new ConflictError('username', `username "${user.username}" is taken in org ${user.org}`);
      if (existing) userIds.delete(nameKey(existing.org, existing.username));
      userIds.set(nameKey(user.org, user.username), user.id);
      users.set(user.id, clone(user));
    },
    async updateUser(id, change) {
      const existing = users.get(id);
      if (!existing) return undefined;
      const after = checkedChange(existing, change, ['id', 'org', 'username']);
      users.set(id, clone(after));
      return clone(after);
    },
    async deleteUser(id) {
      const existing = users.get(id);
      if (!existing) return;
      userIds.delete(nameKey(existing.org, existing.username));
      users.delete(id);
    },
    getClient: async (clientId) => copy(clients.get(clientId)),
    async listClients(org) {
      return [...clients.values()].filter((c) => c.org === org).map(clone).sort((a, b) => compareStrings(a.client_id, b.client_id));
    },
    async createClient(client) {
      if (clients.has(client.client_id) || tombstones.has(client.client_id)) throw new ConflictError('client_id', CLIENT_ID_UNAVAILABLE);
      clients.set(client.client_id, clone(client));
    },
    async putClient(client) {
      const existing = clients.get(client.client_id);
      if ((existing && existing.org !== client.org) || tombstones.has(client.client_id)) throw new ConflictError('client_id', CLIENT_ID_UNAVAILABLE);
      clients.set(client.client_id, clone(client));
    },
    async updateClient(clientId, change) {
      const existing = clients.get(clientId);
      if (!existing) return undefined;
      const after = checkedChange(existing, change, ['client_id', 'org']);
      clients.set(clientId, clone(after));
      return clone(after);
    },
    async deleteClient(clientId) {
      const existing = clients.get(clientId);
      if (!existing) return undefined;
      clients.delete(clientId);
      tombstones.set(clientId, tombstoneOf(existing, new Date().toISOString()));
      return clone(existing);
    },
    getClientTombstone: async (clientId) => copy(tombstones.get(clientId)),
  };
}
