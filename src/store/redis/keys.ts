import type { DeliveryState } from '../../logout/types.ts';

/**
 * Every Redis key Curfew uses, one function per kind, under one prefix. TypeScript builds every
 * key here and hands each one a Lua function touches to it as KEYS; the Lua never spells a key
 * name. The one exception is a key the function must derive from stored data (the sid keys of a
 * session's RP sessions, a delivery's org lists, the records behind a due queue's ids): for
 * those it receives a template from {@link keyTemplate} — the same function's key with
 * {@link TEMPLATE_HOLE} where the data goes — so the name still comes from this module.
 *
 * Two schemas implement it: {@link keySchema} (one primary, standalone or Sentinel: the names
 * of the first release) and {@link clusterKeySchema} (Redis Cluster: hash-tagged, the session
 * keyspace split into shards). The rest of the store is written against this interface, with a
 * shard wherever a key is one of several; on one primary there is one shard and the argument
 * changes nothing.
 */
export interface KeySchema {
  /**
   * Tests only: the pinned shared clock (see RedisStoreOptions.pinnableClock); '' when the
   * store's clock is not pinnable, which the functions read as "use the server's TIME". Every
   * function learns it from its last argument (library.ts): the key's name on one server, the
   * pinned time on a cluster.
   */
  clockPin: string;
  /**
   * Redis Cluster: a sid key, a model's indexes and its grant set live in other slots than the
   * records they lead to, so they are written by commands of their own around the function that
   * writes the record (see sessions.ts, models.ts). On one primary: false, one function does all.
   */
  readonly cluster: boolean;
  /** How many shards the sessions, their queues and their indexes are split into; 1 on one primary. */
  readonly shards: number;
  /** The shard of a session, by its key (already a keyed hash, so the shards fill evenly). */
  shardOf(sessionKey: string): number;
  /**
   * The start of every id made for a session's ends (SessionStore.endingId): it names the
   * session's shard, so an outbox entry and the deliveries it queues (whose ids keep the prefix,
   * see src/sessions/ending-id.ts) are found by id alone. '' on one primary.
   */
  endingIdPrefix(sessionKey: string): string;
  /** The shard an ended entry or delivery id belongs to: its prefix's, else a hash of the id. */
  shardOfId(id: string): number;

  model(model: string, id: string): string;
  modelIndex(model: string, kind: 'uid' | 'userCode', value: string): string;
  /** The set of model record keys upserted with one grantId. */
  grant(grantId: string): string;

  org(id: string): string;
  orgs: string;
  user(id: string): string;
  /** Hash username → user id, per org. */
  usernames(org: string): string;
  users(org: string): string;
  client(id: string): string;
  clients(org: string): string;
  clientTombstone(id: string): string;

  secret(name: string): string;
  marker: string;
  markerRestore: string;
  /** The audit stream of an org; events without one go to `_`. */
  audit(org: string | undefined): string;
  attempts(limiter: string, key: string): string;

  totp(user: string): string;
  totpStep(user: string): string;
  recoveryCodes(user: string): string;
  stepUp(user: string): string;

  /** An SSO session's record; `key` is the keyed hash of its id. */
  session(key: string): string;
  /** The session key of a record key (a deadline index's member): the inverse of `session`. */
  sessionKeyOf(recordKey: string): string;
  /** sid key → session key. */
  sid(sidKey: string): string;
  /** A shard's deadline index: session record keys scored by their next deadline (or a sweeper's lease). */
  deadlines(shard: number): string;
  /** The keys of an org's / a user's sessions in one shard. */
  orgSessions(org: string, shard: number): string;
  userSessions(user: string, shard: number): string;
  /** A shard's count of RP sessions started and not yet ended (SessionStore.liveRpSessions sums them). */
  liveRps(shard: number): string;

  /** An ended-sessions outbox entry (hash: `entry` json, `queued` flag); in its id's shard unless one is given (templates). */
  ended(id: string, shard?: number): string;
  /** A shard's outbox entry ids scored by when their lease ends. */
  endedDue(shard: number): string;
  /** A logout-token delivery, in its id's shard (the shard of the entry that queued it) unless one is given. */
  delivery(id: string, shard?: number): string;
  /** A shard's delivery ids scored by when they are next due (or a worker's lease ends). */
  deliveriesDue(shard: number): string;
  orgDeliveries(org: string, state: DeliveryState, shard: number): string;
}

/** Stands for the data in a key template: a NUL byte, which no id, org or user name holds. */
export const TEMPLATE_HOLE = '\u0000';

/** A key kind with the data left out, for a Lua function that derives the key from stored data. */
export const keyTemplate = (kind: (hole: string) => string): string => kind(TEMPLATE_HOLE);

interface SchemaOptions {
  pinnableClock?: boolean;
}

/** The key names on one primary; unchanged from the first release, so an upgrade finds every record. */
export function keySchema(p: string, options: SchemaOptions = {}): KeySchema {
  return {
    clockPin: options.pinnableClock ? `${p}clock:pinned` : '',
    cluster: false,
    shards: 1,
    shardOf: () => 0,
    endingIdPrefix: () => '',
    shardOfId: () => 0,

    model: (model, id) => `${p}m:${model}:${id}`,
    modelIndex: (model, kind, value) => `${p}m:${model}:${kind}:${value}`,
    grant: (grantId) => `${p}grant:${grantId}`,

    org: (id) => `${p}org:${id}`,
    orgs: `${p}orgs`,
    user: (id) => `${p}user:${id}`,
    usernames: (org) => `${p}org:${org}:usernames`,
    users: (org) => `${p}org:${org}:users`,
    client: (id) => `${p}client:${id}`,
    clients: (org) => `${p}org:${org}:clients`,
    clientTombstone: (id) => `${p}client-tombstone:${id}`,

    secret: (name) => `${p}secret:${name}`,
    marker: `${p}marker`,
    markerRestore: `${p}marker:restore`,
    audit: (org) => `${p}audit:${org ?? '_'}`,
    attempts: (limiter, key) => `${p}attempts:${limiter}:${key}`,

    totp: (user) => `${p}mfa:${user}:totp`,
    totpStep: (user) => `${p}mfa:${user}:step`,
    recoveryCodes: (user) => `${p}mfa:${user}:recovery`,
    stepUp: (user) => `${p}mfa:${user}:stepup`,

    session: (key) => `${p}sso:${key}`,
    sessionKeyOf: (recordKey) => recordKey.slice(`${p}sso:`.length),
    sid: (sidKey) => `${p}sid:${sidKey}`,
    deadlines: () => `${p}deadlines`,
    orgSessions: (org) => `${p}org:${org}:sessions`,
    userSessions: (user) => `${p}user:${user}:sessions`,
    liveRps: () => `${p}rps:live`,

    ended: (id) => `${p}ended:${id}`,
    endedDue: () => `${p}ended:due`,
    delivery: (id) => `${p}delivery:${id}`,
    deliveriesDue: () => `${p}deliveries:due`,
    orgDeliveries: (org, state) => `${p}org:${org}:deliveries:${state}`,
  };
}

/** The default shard count in cluster mode (`redis.cluster.shards`). */
export const DEFAULT_SHARDS = 16;

/** 32-bit FNV-1a: cheap, stable across releases and processes (a shard must never move). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** `s<N>.` at the start of an id: the shard its ending was made in (see endingIdPrefix). */
const ROUTED = /^s(\d{1,4})\./;

/**
 * The key names on Redis Cluster. Redis runs a function only if every key it touches — declared
 * or derived from a template — hashes to one slot (else CROSSSLOT), so each function's keys
 * share one hash tag, by construction of this schema:
 *
 * - `{s<N>}`, one of `shards` session shards (N from the session key): a session's record, its
 *   shard's deadline index, outbox (entries and due queue), live RP-session count and org/user
 *   session lists, and the deliveries its ends queue (records, due queue, org pending/dead
 *   lists). So a session's end and the outbox entry it owes stay one step (issue 16), and an
 *   entry's deliveries are queued in the step that flags it. Ids looked up alone (ended entries,
 *   deliveries) start with `s<N>.` (endingIdPrefix), which names the shard. Sharding spreads the
 *   sessions — the bulk of the data and every write — over the cluster's primaries; the sweeper
 *   and the delivery worker gather each queue from every shard (shards.ts).
 * - `{dir}`: the directory (orgs, users, usernames, clients, tombstones): small, rarely
 *   written, and its functions span a record and its org's indexes.
 * - `{<user>}`: a user's MFA keys (enrollment and recovery codes are written together).
 * - no tag: keys every command of which touches that key alone — a sid key (looked up by sid
 *   alone; see sessions.ts for the two steps that costs), oidc-provider's records, their uid /
 *   userCode indexes and grant sets (models.ts splits their steps), secrets, the marker, audit
 *   streams, attempt counters, the test clock's pin.
 *
 * The prefix must hold no `{`, or the tags would not be the first braces of a key.
 */
export function clusterKeySchema(p: string, options: SchemaOptions & { shards?: number } = {}): KeySchema {
  const shards = options.shards ?? DEFAULT_SHARDS;
  if (p.includes('{') || p.includes('}')) throw new Error(`the Redis key prefix "${p}" holds a brace: in cluster mode its keys' hash tags would break`);
  if (!Number.isInteger(shards) || shards < 1 || shards > 1024) throw new Error(`cluster shards must be 1…1024, got ${shards}`);
  const one = keySchema(p, options);
  const s = (shard: number) => `${p}{s${shard}}`;
  const dir = `${p}{dir}`;
  const shardOfId = (id: string) => {
    const routed = ROUTED.exec(id);
    const n = routed ? Number(routed[1]) : NaN;
    return n < shards ? n : fnv1a(id) % shards;
  };
  const shardOf = (sessionKey: string) => fnv1a(sessionKey) % shards;
  return {
    ...one,
    cluster: true,
    shards,
    shardOf,
    endingIdPrefix: (sessionKey) => `s${shardOf(sessionKey)}.`,
    shardOfId,

    org: (id) => `${dir}org:${id}`,
    orgs: `${dir}orgs`,
    user: (id) => `${dir}user:${id}`,
    usernames: (org) => `${dir}org:${org}:usernames`,
    users: (org) => `${dir}org:${org}:users`,
    client: (id) => `${dir}client:${id}`,
    clients: (org) => `${dir}org:${org}:clients`,
    clientTombstone: (id) => `${dir}client-tombstone:${id}`,

    totp: (user) => `${p}mfa:{${user}}:totp`,
    totpStep: (user) => `${p}mfa:{${user}}:step`,
    recoveryCodes: (user) => `${p}mfa:{${user}}:recovery`,
    stepUp: (user) => `${p}mfa:{${user}}:stepup`,

    session: (key) => `${s(shardOf(key))}sso:${key}`,
    // `<prefix>{s<N>}sso:<key>`: the prefix holds no brace, so the first `}` closes the tag.
    sessionKeyOf: (recordKey) => recordKey.slice(recordKey.indexOf('}', p.length) + '}sso:'.length),
    deadlines: (shard) => `${s(shard)}deadlines`,
    orgSessions: (org, shard) => `${s(shard)}org:${org}:sessions`,
    userSessions: (user, shard) => `${s(shard)}user:${user}:sessions`,
    liveRps: (shard) => `${s(shard)}rps:live`,

    ended: (id, shard = shardOfId(id)) => `${s(shard)}ended:${id}`,
    endedDue: (shard) => `${s(shard)}ended:due`,
    delivery: (id, shard = shardOfId(id)) => `${s(shard)}delivery:${id}`,
    deliveriesDue: (shard) => `${s(shard)}deliveries:due`,
    orgDeliveries: (org, state, shard) => `${s(shard)}org:${org}:deliveries:${state}`,
  };
}
