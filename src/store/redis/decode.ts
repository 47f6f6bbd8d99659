import type { EndReason } from '../../audit/types.ts';
import type { ActivityCount, Liveness, RpSession, SessionCheck, SsoSession } from '../../sessions/types.ts';
import type { QueueCensus } from '../types.ts';
import type { Delivery } from '../../logout/types.ts';
import type { EndedEntry } from '../../sessions/types.ts';

/**
 * The Lua boundary: what a Redis function answers (or a record read back) is checked against the
 * shape TypeScript expects before it goes anywhere, instead of being cast. A reply of another
 * shape is a bug or a corrupt record, and fails loudly here with the path that is wrong.
 */
export class ReplyShapeError extends Error {
  constructor(path: string, expected: string, value: unknown) {
    super(`store reply: ${path} should be ${expected}, got ${JSON.stringify(value)?.slice(0, 80) ?? String(value)}`);
    this.name = 'ReplyShapeError';
  }
}

export type Decoder<T> = (value: unknown, path: string) => T;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export const str: Decoder<string> = (v, path) => {
  if (typeof v !== 'string') throw new ReplyShapeError(path, 'a string', v);
  return v;
};

export const num: Decoder<number> = (v, path) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ReplyShapeError(path, 'a number', v);
  return v;
};

/** A number Redis sent as a string (a reply array's `tostring(now)`, a sorted set's score) or as an integer. */
export const intString: Decoder<number> = (v, path) => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new ReplyShapeError(path, 'a number', v);
  return n;
};

export const bool: Decoder<boolean> = (v, path) => {
  if (typeof v !== 'boolean') throw new ReplyShapeError(path, 'a boolean', v);
  return v;
};

export const oneOf =
  <T extends string>(...values: readonly T[]): Decoder<T> =>
  (v, path) => {
    if (!values.includes(v as T)) throw new ReplyShapeError(path, values.join(' | '), v);
    return v as T;
  };

/** An array; cjson encodes an empty Lua table as `{}`, which is read as the empty list. */
export const list =
  <T>(item: Decoder<T>): Decoder<T[]> =>
  (v, path) => {
    if (isObject(v) && Object.keys(v).length === 0) return [];
    if (!Array.isArray(v)) throw new ReplyShapeError(path, 'a list', v);
    return v.map((x, i) => item(x, `${path}[${i}]`));
  };

/** A string-keyed map; cjson encodes an empty Lua table as `[]`, which is read as the empty map. */
export const map =
  <T>(item: Decoder<T>): Decoder<Record<string, T>> =>
  (v, path) => {
    if (Array.isArray(v) && v.length === 0) return {};
    if (!isObject(v)) throw new ReplyShapeError(path, 'an object', v);
    const out: Record<string, T> = {};
    for (const [k, x] of Object.entries(v)) out[k] = item(x, `${path}.${k}`);
    return out;
  };

type Fields<T> = { [K in keyof T]-?: undefined extends T[K] ? Optional<Exclude<T[K], undefined>> : Decoder<T[K]> };
interface Optional<T> {
  optional: Decoder<T>;
}
/** A field that may be absent (or JSON null, which cjson writes for a nil it was told about). */
export const optional = <T>(decoder: Decoder<T>): Optional<T> => ({ optional: decoder });

/**
 * An object with exactly the listed fields checked; others are dropped. Optional fields are
 * left out when absent, so `exactOptionalPropertyTypes` holds for what comes out.
 */
export const object =
  <T>(fields: Fields<T>): Decoder<T> =>
  (v, path) => {
    if (!isObject(v)) throw new ReplyShapeError(path, 'an object', v);
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(fields) as [string, Decoder<unknown> | Optional<unknown>][]) {
      const value = v[key];
      if (typeof field === 'function') out[key] = field(value, `${path}.${key}`);
      else if (value !== undefined && value !== null) out[key] = field.optional(value, `${path}.${key}`);
    }
    return out as T;
  };

/** JSON text decoded and checked in one step. */
export const json =
  <T>(decoder: Decoder<T>): Decoder<T> =>
  (v, path) => {
    const text = str(v, path);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ReplyShapeError(path, 'JSON', text);
    }
    return decoder(parsed, path);
  };

/** Decodes `value` as `decoder` says, naming `what` in an error. */
export const decode = <T>(decoder: Decoder<T>, value: unknown, what: string): T => decoder(value, what);

// Curfew's records as the Lua functions write them.

const liveness: Decoder<Liveness> = oneOf('alive', 'dead', 'missing');

export const rpSession: Decoder<RpSession> = object<RpSession>({
  client: str,
  sid: str,
  sidKey: str,
  grantId: optional(str),
  startedAt: num,
  lastActiveAt: num,
  idleSeconds: num,
  absoluteSeconds: num,
  refreshIsActivity: optional(bool),
  warnedFor: optional(num),
  endedAt: optional(num),
});

const activityCount: Decoder<ActivityCount> = object<ActivityCount>({ count: num, lastAt: num, lastClient: optional(str) });

export const ssoSession: Decoder<SsoSession> = object<SsoSession>({
  id: str,
  org: str,
  user: str,
  ip: optional(str),
  signedInAt: num,
  lastActiveAt: num,
  idleSeconds: num,
  absoluteSeconds: num,
  warningSeconds: num,
  refreshIsActivity: bool,
  rps: map(rpSession),
  activity: optional(map(activityCount)),
});

/** What the session functions answer: a check, plus what a sign-in or a new RP session replaced. */
interface SessionReply {
  now: number;
  sso?: Liveness;
  rp?: Liveness;
  session?: SsoSession;
  idleAt?: number;
  absoluteAt?: number;
}

const sessionReplyFields = {
  now: num,
  sso: optional(liveness),
  rp: optional(liveness),
  session: optional(ssoSession),
  idleAt: optional(num),
  absoluteAt: optional(num),
};

const sessionReply: Decoder<SessionReply> = object<SessionReply>(sessionReplyFields);

export function sessionCheck(v: unknown, path: string): SessionCheck {
  const raw = json(sessionReply)(v, path);
  if (raw.sso === undefined) throw new ReplyShapeError(`${path}.sso`, 'a liveness', undefined);
  const check: SessionCheck = { now: raw.now, sso: raw.sso };
  if (raw.rp !== undefined) check.rp = raw.rp;
  if (raw.session) check.session = raw.session;
  if (raw.idleAt !== undefined && raw.absoluteAt !== undefined) check.deadlines = { idleAt: raw.idleAt, absoluteAt: raw.absoluteAt };
  return check;
}

export const loginReply = json(object<{ now: number; session: SsoSession; replaced?: SsoSession }>({ now: num, session: ssoSession, replaced: optional(ssoSession) }));

export const addRpReply = json(object<{ now: number; session?: SsoSession; replaced?: RpSession }>({ now: num, session: optional(ssoSession), replaced: optional(rpSession) }));

const endReason: Decoder<EndReason> = oneOf<EndReason>('logout', 'idle', 'absolute', 'admin', 'policy', 'user_disabled', 'client_deleted');

/** An outbox entry's json as append_ended wrote it, with its `queued` flag from the hash. */
export function endedEntry(entryJson: unknown, queued: unknown, path: string): EndedEntry {
  const raw = json(
    object<Omit<EndedEntry, 'queued'>>({
      id: str,
      reason: endReason,
      scope: oneOf('sso', 'rp'),
      session: ssoSession,
      rps: list(rpSession),
      deadlineAt: optional(num),
      endedAt: num,
    }),
  )(entryJson, path);
  return { ...raw, queued: oneOf('0', '1')(queued, `${path}.queued`) === '1' };
}

export const delivery: Decoder<Delivery> = object<Delivery>({
  id: str,
  org: str,
  client: str,
  uri: str,
  sub: str,
  sid: str,
  reason: str,
  session: str,
  endedAt: num,
  enqueuedAt: num,
  attempts: num,
  state: oneOf('pending', 'dead'),
  nextAttemptAt: num,
  lastError: optional(str),
});

/** The reply of the census functions: `{ now, size, due, [member, score] }`. */
export function queueCensus(v: unknown, path: string): QueueCensus {
  if (!Array.isArray(v) || v.length !== 4) throw new ReplyShapeError(path, 'a census reply', v);
  const [now, size, due, first] = v as unknown[];
  const firstDue = list(str)(first, `${path}.first`);
  return {
    now: intString(now, `${path}.now`),
    size: intString(size, `${path}.size`),
    due: intString(due, `${path}.due`),
    ...(firstDue.length === 2 ? { oldestDueAt: intString(firstDue[1], `${path}.oldestDueAt`) } : {}),
  };
}

/** A reply array of strings: `{ now, item... }` and the like. */
export const strings: Decoder<string[]> = (v, path) => {
  if (!Array.isArray(v)) throw new ReplyShapeError(path, 'a list of strings', v);
  return v.map((x, i) => str(x, `${path}[${i}]`));
};

/** An integer reply. */
export const int: Decoder<number> = intString;
