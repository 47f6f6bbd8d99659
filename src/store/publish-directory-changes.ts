import type { ChangeFeed, DirectoryChange, DirectoryStore } from './types.ts';

/**
 * The directory whose every write publishes its change (src/orgs/store.ts, ChangeFeed), so
 * each instance's cache of directory records hears of it, whichever instance or tool wrote.
 * The change is published after the write; a write that failed may still have been applied
 * (a reply lost on the way), so it is published then too, and the write's own error is the
 * one thrown. A publish that fails after a write that succeeded fails the call: the caller
 * retries, and publishes again.
 */
export function publishDirectoryChanges(directory: DirectoryStore, changes: ChangeFeed): DirectoryStore {
  async function publishing<T>(change: DirectoryChange, write: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await write();
    } catch (error) {
      await changes.publish(change).catch(() => {});
      throw error;
    }
    await changes.publish(change);
    return result;
  }
  return {
    getOrg: (id) => directory.getOrg(id),
    listOrgs: () => directory.listOrgs(),
    putOrg: (org) => publishing({ kind: 'org', id: org.id }, () => directory.putOrg(org)),
    getUser: (id) => directory.getUser(id),
    findUserByName: (org, username) => directory.findUserByName(org, username),
    listUsers: (org) => directory.listUsers(org),
    putUser: (user) => publishing({ kind: 'user', id: user.id }, () => directory.putUser(user)),
    updateUser: (id, change) => publishing({ kind: 'user', id }, () => directory.updateUser(id, change)),
    deleteUser: (id) => publishing({ kind: 'user', id }, () => directory.deleteUser(id)),
    getClient: (id) => directory.getClient(id),
    listClients: (org) => directory.listClients(org),
    createClient: (client) => publishing({ kind: 'client', id: client.client_id }, () => directory.createClient(client)),
    putClient: (client) => publishing({ kind: 'client', id: client.client_id }, () => directory.putClient(client)),
    updateClient: (id, change) => publishing({ kind: 'client', id }, () => directory.updateClient(id, change)),
    deleteClient: (id) => publishing({ kind: 'client', id }, () => directory.deleteClient(id)),
    getClientTombstone: (id) => directory.getClientTombstone(id),
  };
}
