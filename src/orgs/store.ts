import type { ClientRecord, ClientTombstone, Org, User } from './types.ts';

/**
 * The directory's store port (src/store implements it): orgs, users and clients. Usernames are unique within an org; client ids are global
 * (they appear in tokens and URLs) and never reused. Writes of one record are atomic.
 */
export interface DirectoryStore {
  /** One read. */
  getOrg(id: string): Promise<Org | undefined>;
  /** Two reads (ids, then records), not a snapshot: an org written meanwhile may or may not be listed. */
  listOrgs(): Promise<Org[]>;
  /** Atomic: the record and the list of orgs (one MULTI). */
  putOrg(org: Org): Promise<void>;

  /** One read. */
  getUser(id: string): Promise<User | undefined>;
  /** Two reads (name index, then record). */
  findUserByName(org: string, username: string): Promise<User | undefined>;
  /** Two reads, not a snapshot, as listOrgs. */
  listUsers(org: string): Promise<User[]>;
  /**
   * Creates or replaces a user; throws ConflictError('username') if another user of the org has
   * the name. Atomic: the check and the write with the org's indexes are one Lua function.
   */
  putUser(user: User): Promise<void>;
  /**
   * Changes an existing user's record as `change` says, against the record as stored: atomic
   * compare-and-set (Redis: one Lua function writes only if the record is still the one `change`
   * was applied to; otherwise it is read again and `change` re-applied, bounded). Two admins'
   * concurrent edits (a disable and a role change) therefore never undo each other, as a read,
   * then putUser, would. `change` may not alter the id, org or username. Undefined if no such user.
   */
  updateUser(id: string, change: (user: User) => User): Promise<User | undefined>;
  /**
   * Atomic delete of the user with its indexes (one Lua function); the org whose indexes it edits is
   * read first, and the delete retried should the user be recreated in another org meanwhile.
   */
  deleteUser(id: string): Promise<void>;

  /** One read. */
  getClient(clientId: string): Promise<ClientRecord | undefined>;
  /** Two reads, not a snapshot, as listOrgs. */
  listClients(org: string): Promise<ClientRecord[]>;
  /**
   * Creates a client whose id is unused: throws ConflictError('client_id') — one message, whoever
   * holds it — if any org's client has the id or ever had it (tombstone). Atomic: of concurrent
   * creations of one id, exactly one succeeds.
   */
  createClient(client: ClientRecord): Promise<void>;
  /**
   * Creates or replaces a client; throws ConflictError('client_id') if the id belongs to another
   * org or was deleted (a write racing a delete never resurrects it). Atomic.
   */
  putClient(client: ClientRecord): Promise<void>;
  /**
   * Changes an existing client's record as `change` says, against the record as stored: atomic
   * compare-and-set, as updateUser. A secret rotation racing a change of the redirect URIs keeps
   * both (a read, then putClient, could restore the old secret). `change` may not alter the
   * client_id or org. Undefined if no such client (or it was deleted: it stays deleted).
   */
  updateClient(clientId: string, change: (client: ClientRecord) => ClientRecord): Promise<ClientRecord | undefined>;
  /**
   * Removes the client and leaves its tombstone in one atomic step; returns what was removed. Its
   * org is read first, as deleteUser's.
   */
  deleteClient(clientId: string): Promise<ClientRecord | undefined>;
  /** One read. */
  getClientTombstone(clientId: string): Promise<ClientTombstone | undefined>;
}

/** A directory record that changed, by id: a client, a user, or an org (its policy included). */
export interface DirectoryChange {
  kind: 'client' | 'user' | 'org';
  id: string;
}

/** Hears a {@link ChangeFeed}. */
export interface ChangeListener {
  /** A record changed (a write on any instance, this one included). */
  changed(change: DirectoryChange): void;
  /**
   * The feed (re)subscribed (`live`: changes are heard from now on) or lost its connection
   * (`live` false: changes may go unheard until it is live again). Either way changes may have
   * been missed: whatever a listener derived from earlier reads is to be dropped.
   */
  reset(live: boolean): void;
}

/**
 * The directory's change feed, across every instance sharing the store: each write of a client,
 * user or org publishes its change (the store's directory does it after the write), so caches
 * of directory records hear of it (src/orgs/directory-cache.ts). Delivery is at most once: a
 * listener learns of every gap through `reset`, never by missing a message silently.
 */
export interface ChangeFeed {
  /** Tells every subscriber, on every instance. One command (PUBLISH in Redis). */
  publish(change: DirectoryChange): Promise<void>;
  /**
   * Starts hearing changes; resolves once subscribed (its first `reset(true)` already called).
   * `close` stops hearing and releases what the subscription holds (its Redis connection).
   */
  subscribe(listener: ChangeListener): Promise<{ close(): Promise<void> }>;
}
