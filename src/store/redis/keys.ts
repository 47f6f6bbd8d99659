import type { DeliveryState } from '../../logout/types.ts';

/**
 * Every Redis key Curfew uses, one function per kind, under one prefix. TypeScript builds every
 * key here and hands each one a Lua function touches to it as KEYS; the Lua never spells a key
 * name. The one exception is a key the function must derive from stored data (the sid keys of a
 * session's RP sessions, a delivery's org lists, the records behind a due queue's ids): for
 * those it receives a template from {@link keyTemplate} — the same function's key with
 * {@link TEMPLATE_HOLE} where the data goes — so the name still comes from this module.
 *
 * A later Redis Cluster port changes this module only: each kind is one function, so hash tags
 * (e.g. `{sso:<key>}` shared by a session and its indexes) can be added per kind.
 */
export interface KeySchema {
  /**
   * Tests only: the pinned shared clock (see RedisStoreOptions.pinnableClock); '' when the
   * store's clock is not pinnable, which the functions read as "use the server's TIME".
   */
  clockPin: string;

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
  /** sid key → session key. */
  sid(sidKey: string): string;
  /** The deadline index: session record keys scored by their next deadline (or a sweeper's lease). */
  deadlines: string;
  orgSessions(org: string): string;
  userSessions(user: string): string;
  /** The count of RP sessions started and not yet ended (SessionStore.liveRpSessions). */
  liveRps: string;

  /** An ended-sessions outbox entry (hash: `entry` json, `queued` flag). */
  ended(id: string): string;
  /** Outbox entry ids scored by when their lease ends. */
  endedDue: string;
  delivery(id: string): string;
  /** Delivery ids scored by when they are next due (or a worker's lease ends). */
  deliveriesDue: string;
  orgDeliveries(org: string, state: DeliveryState): string;
}

/** Stands for the data in a key template: a NUL byte, which no id, org or user name holds. */
export const TEMPLATE_HOLE = '\u0000';

/** A key kind with the data left out, for a Lua function that derives the key from stored data. */
export const keyTemplate = (kind: (hole: string) => string): string => kind(TEMPLATE_HOLE);

/** The key names; unchanged from the first release, so an upgrade finds every record. */
export function keySchema(p: string, options: { pinnableClock?: boolean } = {}): KeySchema {
  return {
    clockPin: options.pinnableClock ? `${p}clock:pinned` : '',

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
    sid: (sidKey) => `${p}sid:${sidKey}`,
    deadlines: `${p}deadlines`,
    orgSessions: (org) => `${p}org:${org}:sessions`,
    userSessions: (user) => `${p}user:${user}:sessions`,
    liveRps: `${p}rps:live`,

    ended: (id) => `${p}ended:${id}`,
    endedDue: `${p}ended:due`,
    delivery: (id) => `${p}delivery:${id}`,
    deliveriesDue: `${p}deliveries:due`,
    orgDeliveries: (org, state) => `${p}org:${org}:deliveries:${state}`,
  };
}
