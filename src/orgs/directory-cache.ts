import type { ChangeFeed, ChangeListener, DirectoryChange, DirectoryStore } from './store.ts';
import type { ClientRecord, Org } from './types.ts';

/** Past this many records of a kind the cache starts over: a bound on memory, not a policy. */
const MAX_ENTRIES = 10_000;

type CachedKind = 'client' | 'org';

/** What the cache has heard, for the operator and for tests. */
export interface DirectoryCacheState {
  live: boolean;
  clients: number;
  orgs: number;
}

export interface DirectoryCache {
  /** The directory with `getClient` and `getOrg` answered from memory while that is safe; writes go through. */
  directory: DirectoryStore;
  /** Subscribes to the change feed; until it is live every read goes to the store. */
  start(): Promise<void>;
  /** Forgets every record (the store lost its state, src/store/wipe-detection.ts): the next reads are the store's. */
  dropAll(): void;
  close(): Promise<void>;
  state(): DirectoryCacheState;
}

/**
 * Clients and orgs (the org's policy with it) are read on nearly every request and change
 * rarely: kept in memory, each instance's own, and dropped on the change feed's word
 * (src/orgs/store.ts, ChangeFeed), which every directory write publishes on every instance.
 *
 * The invariant: a record is answered from memory only while the feed is live, and only if it
 * was read from the store entirely inside the feed's current live period with no change heard
 * while it was read. Every reset of the feed — (re)subscribed or dropped — empties the cache and
 * starts a new period. So a change missed while the feed was down can never keep a stale record:
 * whatever was cached before the gap is gone, and anything read during it is not kept.
 * (A change heard while a read is in flight may concern it; that read is answered but not kept.)
 *
 * Authority is still the store's: a client deleted or disabled, an org's policy changed, on
 * any instance, is read again from the store by the next request after the change is heard —
 * a pub/sub message, milliseconds. Missing records are not cached: they go to the store each
 * time (and to the wipe check behind the adapter). Users are not cached either: they are read
 * once per request, concurrently with the session check where it matters.
 */
export function createDirectoryCache(store: DirectoryStore, feed: ChangeFeed): DirectoryCache {
  const entries: Record<CachedKind, Map<string, ClientRecord | Org>> = { client: new Map(), org: new Map() };
  let live = false;
  // Moves on every change and every reset: a read that saw it move while in flight is not kept.
  let generation = 0;
  let subscription: { close(): Promise<void> } | undefined;

  function dropAll(): void {
    generation++;
    entries.client.clear();
    entries.org.clear();
  }
  function drop(change: Pick<DirectoryChange, 'kind' | 'id'>): void {
    generation++;
    if (change.kind === 'client' || change.kind === 'org') entries[change.kind].delete(change.id);
  }

  const listener: ChangeListener = {
    changed: drop,
    reset(nowLive) {
      live = nowLive;
      dropAll();
    },
  };

  async function read<T extends ClientRecord | Org>(kind: CachedKind, id: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const cached = live ? (entries[kind].get(id) as T | undefined) : undefined;
    // A copy: no caller can change what the next request reads.
    if (cached) return structuredClone(cached);
    const started = generation;
    const value = await load();
    if (value && live && generation === started) {
      if (entries[kind].size >= MAX_ENTRIES) entries[kind].clear();
      entries[kind].set(id, structuredClone(value));
    }
    return value;
  }

  /** This instance's own write is seen by its next read at once, before its message comes back. */
  async function writing<T>(change: Pick<DirectoryChange, 'kind' | 'id'>, write: () => Promise<T>): Promise<T> {
    drop(change);
    try {
      return await write();
    } finally {
      drop(change);
    }
  }

  const directory: DirectoryStore = {
    getOrg: (id) => read('org', id, () => store.getOrg(id)),
    listOrgs: () => store.listOrgs(),
    putOrg: (org) => writing({ kind: 'org', id: org.id }, () => store.putOrg(org)),
    getUser: (id) => store.getUser(id),
    findUserByName: (org, username) => store.findUserByName(org, username),
    listUsers: (org) => store.listUsers(org),
    putUser: (user) => store.putUser(user),
    updateUser: (id, change) => store.updateUser(id, change),
    deleteUser: (id) => store.deleteUser(id),
    getClient: (id) => read('client', id, () => store.getClient(id)),
    listClients: (org) => store.listClients(org),
    createClient: (client) => writing({ kind: 'client', id: client.client_id }, () => store.createClient(client)),
    putClient: (client) => writing({ kind: 'client', id: client.client_id }, () => store.putClient(client)),
    updateClient: (id, change) => writing({ kind: 'client', id }, () => store.updateClient(id, change)),
    deleteClient: (id) => writing({ kind: 'client', id }, () => store.deleteClient(id)),
    getClientTombstone: (id) => store.getClientTombstone(id),
  };

  return {
    directory,
    async start() {
      subscription ??= await feed.subscribe(listener);
    },
    dropAll,
    async close() {
      live = false;
      dropAll();
      await subscription?.close();
      subscription = undefined;
    },
    state: () => ({ live, clients: entries.client.size, orgs: entries.org.size }),
  };
}
