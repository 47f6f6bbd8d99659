import type { AuditQuery, AuditPage, AuditRecord, NewAuditRecord } from '../audit/types.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { ClientRecord, Org, User } from '../orgs/types.ts';
import { auditBounds, compareIds, idMs, matchesAudit, toPage } from './audit-query.ts';
import { compareStrings } from './order.ts';
import { createMemoryAttempts } from './memory-attempts.ts';
import { createMemorySessions } from './memory-sessions.ts';
import { createMemoryMfa } from './memory-mfa.ts';
import { createMemoryDeliveries } from './memory-deliveries.ts';
import { createMemoryOutbox } from './memory-outbox.ts';
import { CLIENT_ID_UNAVAILABLE, tombstoneOf } from './client-tombstone.ts';
import {
  ConflictError,
  type AuditStore,
  type ClientTombstone,
  type DirectoryStore,
  type ModelIndexes,
  type ModelPayload,
  type ModelStore,
  type RateLimitOptions,
  type SecretStore,
  type Store,
  type StoreMarker,
} from './types.ts';

interface Entry<T> {
  value: T;
  /** Epoch ms, from the injected clock; absent for records that never expire. */
  expiresAt?: number;
}

/** A Map whose entries expire by the injected clock, checked on every read. */
class ExpiringMap<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #clock: Clock;
  constructor(clock: Clock) {
    this.#clock = clock;
  }
  get(key: string): T | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && this.#clock.now() >= entry.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }
  expiresAt(key: string): number | undefined {
    return this.get(key) === undefined ? undefined : this.#entries.get(key)!.expiresAt;
  }
  set(key: string, value: T, expiresAt?: number): void {
    this.#entries.set(key, expiresAt === undefined ? { value } : { value, expiresAt });
  }
  delete(key: string): void {
    this.#entries.delete(key);
  }
  /** Drops expired entries; called now and then so memory does not grow with dead records. */
  purge(): void {
    const now = this.#clock.now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt !== undefined && now >= entry.expiresAt) this.#entries.delete(key);
  }
}

const clone = <T>(value: T): T => structuredClone(value);

function createModelStore(clock: Clock): ModelStore & { purge(): void } {
  const records = new ExpiringMap<ModelPayload>(clock);
  const uidIndex = new ExpiringMap<string>(clock);
  const userCodeIndex = new ExpiringMap<string>(clock);
  // Grant sets carry no expiry of their own: members are pruned by purge() once their records die.
  const grants = new Map<string, Set<string>>();
  const key = (model: string, id: string) => `${model}\u0000${id}`;
  const byIndex = (index: ExpiringMap<string>, model: string, value: string) => {
    const id = index.get(key(model, value));
    const found = id === undefined ? undefined : records.get(key(model, id));
    return found && clone(found);
  };

  return {
    async upsert(model, id, payload, expiresInSeconds, indexes: ModelIndexes) {
      // A TTL of zero or less writes a record that is already dead, as Redis would drop it.
      const expiresAt = expiresInSeconds === undefined ? undefined : clock.now() + expiresInSeconds * 1000;
      records.set(key(model, id), clone(payload), expiresAt);
      if (indexes.uid) uidIndex.set(key(model, indexes.uid), id, expiresAt);
      if (indexes.userCode) userCodeIndex.set(key(model, indexes.userCode), id, expiresAt);
      if (indexes.grantId) {
        const members = grants.get(indexes.grantId) ?? new Set<string>();
        members.add(key(model, id));
        grants.set(indexes.grantId, members);
      }
    },
    async find(model, id) {
      const found = records.get(key(model, id));
      return found && clone(found);
    },
    findByUid: async (model, uid) => byIndex(uidIndex, model, uid),
    findByUserCode: async (model, userCode) => byIndex(userCodeIndex, model, userCode),
    async consume(model, id, atEpochSeconds) {
      const k = key(model, id);
      const found = records.get(k);
      // The first consumption is the fact worth keeping; a replay does not move it.
      if (found && !found.consumed) records.set(k, { ...found, consumed: atEpochSeconds }, records.expiresAt(k));
    },
    async destroy(model, id) {
      records.delete(key(model, id));
    },
    async revokeByGrantId(grantId) {
      for (const k of grants.get(grantId) ?? []) records.delete(k);
      grants.delete(grantId);
    },
    purge() {
      records.purge();
      uidIndex.purge();
      userCodeIndex.purge();
      for (const [grantId, members] of grants) {
        for (const k of members) if (records.get(k) === undefined) members.delete(k);
        if (!members.size) grants.delete(grantId);
      }
    },
  };
}

/** Same rules as the Redis directory: a username index per org, a user never changes org. */
function createDirectory(): DirectoryStore {
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

function createSecrets(): SecretStore {
  const values = new Map<string, string>();
  return {
    async getOrCreate(name, create) {
      // Synchronous check-and-set: no await between them, so concurrent calls cannot both create.
      if (!values.has(name)) values.set(name, create());
      return values.get(name)!;
    },
  };
}

/** A process's memory is never wiped while the process lives: the marker, once settled, stays. */
function createMarker(clock: Clock): StoreMarker {
  let marker: string | undefined;
  let claimedUntil = -Infinity;
  let claimant: string | undefined;
  return {
    read: async () => marker,
    async settle(value) {
      marker ??= value;
      return marker;
    },
    async claimRestore(holder, ms) {
      // Synchronous check-and-set, as the Redis SET NX PX.
      const now = clock.now();
      if (now < claimedUntil) return false;
      claimedUntil = now + ms;
      claimant = holder;
      return true;
    },
    async releaseRestore(holder) {
      if (claimant === holder) claimedUntil = -Infinity;
    },
  };
}

/** Mirrors the Redis stream's `MAXLEN ~ 1000000`: the embedded default must not grow forever. */
const AUDIT_MAX = 1_000_000;
const AUDIT_TRIM_SLACK = 10_000;

/** Index of the newest record strictly older than `id` in an ascending list; -1 if none. */
function lastBefore(list: AuditRecord[], id: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareIds(list[mid]!.id, id) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function createAuditStore(clock: Clock): AuditStore {
  const streams = new Map<string, AuditRecord[]>();
  let lastMs = 0;
  let seq = 0;
  // Ids shaped like Redis stream ids (`<ms>-<seq>`), strictly increasing even if the clock stalls
  // or steps back; `at` is the id's time, as in Redis.
  const nextId = () => {
    const now = clock.now();
    if (now > lastMs) {
      lastMs = now;
      seq = 0;
    } else {
      seq += 1;
    }
    return `${lastMs}-${seq}`;
  };
  const streamOf = (org: string) => {
    let list = streams.get(org);
    if (!list) streams.set(org, (list = []));
    return list;
  };
  return {
    async append(event: NewAuditRecord) {
      const id = nextId();
      const record: AuditRecord = { ...clone(event), id, at: new Date(idMs(id)).toISOString() };
      const list = streamOf(event.org ?? '_');
      list.push(record);
      // Trimmed in chunks, like Redis's approximate MAXLEN, so appends stay O(1) amortised.
      if (list.length > AUDIT_MAX + AUDIT_TRIM_SLACK) list.splice(0, list.length - AUDIT_MAX);
      return clone(record);
    },
    async query(query: AuditQuery): Promise<AuditPage> {
      const { before, sinceMs } = auditBounds(query);
      const list = streams.get(query.org) ?? [];
      const matches: AuditRecord[] = [];
      for (let i = before === undefined ? list.length - 1 : lastBefore(list, before); i >= 0 && matches.length <= query.limit; i--) {
        const record = list[i]!;
        if (sinceMs !== undefined && idMs(record.id) < sinceMs) break;
        if (matchesAudit(record, query)) matches.push(clone(record));
      }
      return toPage(matches, query.limit);
    },
  };
}

/**
 * Everything in this process's memory: the embedded default of `npm start`, and a fast store
 * for tests. Every expiry is judged lazily on read against the injected clock (default: the
 * system clock), so tests move time by hand; an unref'd purge drops dead records now and then
 * and stops at `close()`. Each operation runs without an await inside, so it is atomic within
 * the process.
 */
export function createMemoryStore(options: { clock?: Clock } = {}): Store {
  const clock = options.clock ?? systemClock;
  const models = createModelStore(clock);
  // Purge dead records now and then; unref'd so an idle process can still exit.
  const attempts = createMemoryAttempts(clock);
  const purger = setInterval(() => {
    models.purge();
    attempts.purge();
  }, 60_000);
  purger.unref();

  const deliveries = createMemoryDeliveries(clock);
  const ended = createMemoryOutbox(clock, deliveries);
  return {
    kind: 'memory',
    models,
    directory: createDirectory(),
    secrets: createSecrets(),
    marker: createMarker(clock),
    audit: createAuditStore(clock),
    sessions: createMemorySessions(clock, ended),
    mfa: createMemoryMfa(),
    deliveries,
    ended,
    rateLimiter: (o: RateLimitOptions) => attempts.limiter(o),
    async now() {
      return clock.now();
    },
    async ping() {},
    async close() {
      clearInterval(purger);
    },
  };
}
