import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { AuditQuery, AuditPage, AuditRecord, NewAuditRecord } from '../audit/types.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { ClientRecord, Org, User } from '../orgs/types.ts';
import { decodeCursor, encodeCursor, matchesAudit } from './audit-query.ts';
import { createMemorySessions } from './memory-sessions.ts';
import { createMemoryMfa } from './memory-mfa.ts';
import { createMemoryDeliveries } from './memory-deliveries.ts';
import {
  ConflictError,
  type AuditStore,
  type DirectoryStore,
  type ModelIndexes,
  type ModelPayload,
  type ModelStore,
  type RateLimiter,
  type RateLimitOptions,
  type SecretStore,
  type Store,
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
  const grants = new Map<string, Set<string>>();
  const key = (model: string, id: string) => `${model}\u0000${id}`;

  return {
    async upsert(model, id, payload, expiresInSeconds, indexes: ModelIndexes) {
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
    async findByUid(model, uid) {
      const id = uidIndex.get(key(model, uid));
      const found = id === undefined ? undefined : records.get(key(model, id));
      return found && clone(found);
    },
    async findByUserCode(model, userCode) {
      const id = userCodeIndex.get(key(model, userCode));
      const found = id === undefined ? undefined : records.get(key(model, id));
      return found && clone(found);
    },
    async consume(model, id, atEpochSeconds) {
      const k = key(model, id);
      const found = records.get(k);
      if (found) records.set(k, { ...found, consumed: atEpochSeconds }, records.expiresAt(k));
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

function createDirectory(): DirectoryStore {
  const orgs = new Map<string, Org>();
  const users = new Map<string, User>();
  const clients = new Map<string, ClientRecord>();
  const byName = (org: string, username: string) => [...users.values()].find((u) => u.org === org && u.username === username);

  return {
    async getOrg(id) {
      const org = orgs.get(id);
      return org && clone(org);
    },
    async listOrgs() {
      return [...orgs.values()].map(clone).sort((a, b) => a.id.localeCompare(b.id));
    },
    async putOrg(org) {
      orgs.set(org.id, clone(org));
    },
    async getUser(id) {
      const user = users.get(id);
      return user && clone(user);
    },
    async findUserByName(org, username) {
      const user = byName(org, username);
      return user && clone(user);
    },
    async listUsers(org) {
      return [...users.values()].filter((u) => u.org === org).map(clone).sort((a, b) => a.username.localeCompare(b.username));
    },
    async putUser(user) {
      const existing = users.get(user.id);
      if (existing && existing.org !== user.org) throw new Error(`user ${user.id} belongs to org ${existing.org}; a user never changes org`);
      const holder = byName(user.org, user.username);
      if (holder && holder.id !== user.id) throw new ConflictError('username', `username "${user.username}" is taken in org ${user.org}`);
      users.set(user.id, clone(user));
    },
    async deleteUser(id) {
      users.delete(id);
    },
    async getClient(clientId) {
      const client = clients.get(clientId);
      return client && clone(client);
    },
    async listClients(org) {
      return [...clients.values()].filter((c) => c.org === org).map(clone).sort((a, b) => a.client_id.localeCompare(b.client_id));
    },
    async putClient(client) {
      const existing = clients.get(client.client_id);
      if (existing && existing.org !== client.org) throw new ConflictError('client_id', `client_id "${client.client_id}" is taken`);
      clients.set(client.client_id, clone(client));
    },
    async deleteClient(clientId) {
      clients.delete(clientId);
    },
  };
}

function createSecrets(): SecretStore {
  const values = new Map<string, string>();
  return {
    async getOrCreate(name, create) {
      if (!values.has(name)) values.set(name, create());
      return values.get(name)!;
    },
  };
}

function createAuditStore(clock: Clock): AuditStore {
  const streams = new Map<string, AuditRecord[]>();
  let lastMs = 0;
  let seq = 0;
  // Ids shaped like Redis stream ids (`<ms>-<seq>`), strictly increasing even if the clock stalls.
  const nextId = () => {
    const now = clock.now();
    if (now > lastMs) {
      lastMs = now;
      seq = 0;
    } else {
      seq += 1;
    }
    return { id: `${lastMs}-${seq}`, ms: lastMs };
  };
  const compare = (a: string, b: string) => {
    const [am, as] = a.split('-').map(Number) as [number, number];
    const [bm, bs] = b.split('-').map(Number) as [number, number];
    return am - bm || as - bs;
  };
  return {
    async append(event: NewAuditRecord) {
      const { id, ms } = nextId();
      const record: AuditRecord = { ...clone(event), id, at: new Date(ms).toISOString() };
      const stream = `${event.org ?? '_'}`;
      const list = streams.get(stream) ?? [];
      list.push(record);
      streams.set(stream, list);
      return clone(record);
    },
    async query(query: AuditQuery): Promise<AuditPage> {
      const after = query.cursor ? decodeCursor(query.cursor) : undefined;
      const items: AuditRecord[] = [];
      const list = streams.get(query.org) ?? [];
      for (let i = list.length - 1; i >= 0 && items.length <= query.limit; i--) {
        const record = list[i]!;
        if (after && compare(record.id, after) >= 0) continue;
        if (query.since && record.at < query.since) break;
        if (matchesAudit(record, query)) items.push(clone(record));
      }
      const more = items.length > query.limit;
      const page = items.slice(0, query.limit);
      return more ? { items: page, nextCursor: encodeCursor(page.at(-1)!.id) } : { items: page };
    },
  };
}

type FlexibleLimiter = Pick<RateLimiterMemory, 'get' | 'consume' | 'delete' | 'block'>;

/**
 * Wraps rate-limiter-flexible (which rejects once out of points) into a plain state. The
 * failure that spends the last point starts the block at once, so the caller's very next
 * attempt is refused for the whole block duration, not just until the window ends.
 */
export function wrapLimiter(limiter: FlexibleLimiter, options: RateLimitOptions): RateLimiter {
  const state = (res: RateLimiterRes | null) => ({
    blocked: res !== null && res.consumedPoints >= options.points,
    retryAfterSeconds: res ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 0,
  });
  return {
    async check(key) {
      return state(await limiter.get(key));
    },
    async fail(key) {
      let res: RateLimiterRes;
      try {
        res = await limiter.consume(key);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return state(rejection);
        throw rejection;
      }
      if (res.consumedPoints >= options.points) return state(await limiter.block(key, options.blockSeconds));
      return state(res);
    },
    async reset(key) {
      await limiter.delete(key);
    },
  };
}

/**
 * Everything in this process's memory: the embedded default of `npm start`, and a fast store
 * for tests. Time comes from the injected clock, so tests move expiry by hand.
 */
export function createMemoryStore(options: { clock?: Clock } = {}): Store {
  const clock = options.clock ?? systemClock;
  const models = createModelStore(clock);
  // Purge dead records now and then; unref'd so an idle process can still exit.
  const purger = setInterval(() => models.purge(), 60_000);
  purger.unref();

  return {
    kind: 'memory',
    models,
    directory: createDirectory(),
    secrets: createSecrets(),
    audit: createAuditStore(clock),
    sessions: createMemorySessions(clock),
    mfa: createMemoryMfa(),
    deliveries: createMemoryDeliveries(clock),
    rateLimiter(o: RateLimitOptions) {
      const limiter = new RateLimiterMemory({ keyPrefix: o.name, points: o.points, duration: o.durationSeconds, blockDuration: o.blockSeconds });
      return wrapLimiter(limiter, o);
    },
    async now() {
      return clock.now();
    },
    async ping() {},
    async close() {
      clearInterval(purger);
    },
  };
}
