import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { deathCause, expiresAt, rpDeadlines, ssoDeadlines, type Deadlines } from '../../sessions/deadlines.ts';
import { judge, nextDeadline, touched } from '../../sessions/judge.ts';
import type { RpSession, SsoSession } from '../../sessions/types.ts';
import type { MemoryOutbox } from './outbox.ts';
import type { SessionStore } from '../types.ts';
import type { ReplacedEnding } from '../../sessions/types.ts';

const clone = <T>(v: T): T => structuredClone(v);

/** Sessions in process memory, judged by the injected clock with the pure `judge`. */
export function createMemorySessions(clock: Clock, outbox: MemoryOutbox): SessionStore {
  const store = new Map<string, SsoSession>();
  const index = new Map<string, number>();
  // Every write keeps the deadline index current, as the Redis functions do.
  const sessions = {
    get: (key: string) => store.get(key),
    set(key: string, session: SsoSession) {
      store.set(key, session);
      index.set(key, nextDeadline(session));
    },
    delete(key: string) {
      store.delete(key);
      index.delete(key);
    },
    [Symbol.iterator]: () => store[Symbol.iterator](),
  };
  const sids = new Map<string, { key: string; client: string }>();
  const alive = (key: string, client?: string) => judge(sessions.get(key), client, clock.now());

  const dropSids = (key: string, client?: string) => {
    for (const [sidKey, owner] of sids) {
      if (owner.key === key && (client === undefined || owner.client === client)) sids.delete(sidKey);
    }
  };

  /** A replaced session's end, recorded in the replacing step: by the deadline that passed, else a logout. */
  const recordReplaced = (ending: ReplacedEnding, scope: 'sso' | 'rp', session: SsoSession, rps: RpSession[], deadlines: Deadlines, now: number) => {
    const cause = deathCause(deadlines, now);
    outbox.appendNow({ id: ending.id, reason: cause ?? 'logout', scope, session: clone(session), rps: clone(rps), ...(cause ? { deadlineAt: expiresAt(deadlines) } : {}) }, ending.leaseMs);
  };

  return {
    // One process holds every entry: no routing needed.
    endingId: () => randomUUID(),
    async login(key, input, ending) {
      const now = clock.now();
      const existing = sessions.get(key);
      const check = alive(key);
      if (existing && check.sso === 'alive' && existing.user === input.user) {
        const next: SsoSession = {
          ...existing,
          lastActiveAt: now,
          idleSeconds: input.idleSeconds,
          absoluteSeconds: input.absoluteSeconds,
          warningSeconds: input.warningSeconds,
          refreshIsActivity: input.refreshIsActivity,
          ...(input.ip ? { ip: input.ip } : {}),
        };
        sessions.set(key, next);
        return { session: clone(next), now };
      }
      if (existing) {
        recordReplaced(ending, 'sso', existing, Object.values(existing.rps).filter((r) => r.endedAt === undefined), ssoDeadlines(existing), now);
        dropSids(key);
      }
      const session: SsoSession = { ...input, signedInAt: now, lastActiveAt: now, rps: {} };
      sessions.set(key, session);
      return existing ? { session: clone(session), replaced: clone(existing), now } : { session: clone(session), now };
    },
    async addRp(key, rp, ending) {
      const now = clock.now();
      const session = sessions.get(key);
      if (!session || alive(key).sso !== 'alive') return { now };
      const current = session.rps[rp.client];
      const currentLive = current && alive(key, rp.client).rp === 'alive';
      if (current && currentLive && current.sid === rp.sid) {
        if (rp.grantId && current.grantId !== rp.grantId) sessions.set(key, { ...session, rps: { ...session.rps, [rp.client]: { ...current, grantId: rp.grantId } } });
        return { session: clone(session), now };
      }
      const next: RpSession = {
        client: rp.client,
        sid: rp.sid,
        sidKey: rp.sidKey,
        ...(rp.grantId ? { grantId: rp.grantId } : {}),
        startedAt: now,
        lastActiveAt: now,
        idleSeconds: rp.idleSeconds,
        absoluteSeconds: rp.absoluteSeconds,
        refreshIsActivity: rp.refreshIsActivity,
      };
      if (current && current.endedAt === undefined) recordReplaced(ending, 'rp', session, [current], rpDeadlines(session, current), now);
      if (current) dropSids(key, rp.client);
      session.rps = { ...session.rps, [rp.client]: next };
      sessions.set(key, session);
      sids.set(rp.sidKey, { key, client: rp.client });
      return current ? { session: clone(session), replaced: clone(current), now } : { session: clone(session), now };
    },
    async check(key, client, activity) {
      const now = clock.now();
      const session = sessions.get(key);
      if (session && activity === 'active') sessions.set(key, touched(session, client, now));
      return clone(judge(sessions.get(key), client, now));
    },
    async checkBySid(sidKey, client, activity) {
      const owner = sids.get(sidKey);
      // Only the client's own RP session: a foreign sid is unknown, and nothing is touched.
      if (!owner || sessions.get(owner.key)?.rps[client]?.sidKey !== sidKey) return { now: clock.now(), sso: 'missing', rp: 'missing' };
      return this.check(owner.key, client, activity);
    },
    async touchAll(key) {
      const now = clock.now();
      let session = sessions.get(key);
      if (session && judge(session, undefined, now).sso === 'alive') {
        for (const client of Object.keys(session.rps)) session = touched(session, client, now);
        sessions.set(key, session);
      }
      return clone(judge(sessions.get(key), undefined, now));
    },
    async get(key) {
      const session = sessions.get(key);
      return session && clone(session);
    },
    async end(key, { id, reason, deadlineAt, leaseMs }) {
      const session = sessions.get(key);
      if (!session) return undefined;
      const rps = Object.values(session.rps).filter((rp) => rp.endedAt === undefined);
      // The end and what it owes, in one synchronous step.
      outbox.appendNow({ id, reason, scope: 'sso', session: clone(session), rps: clone(rps), ...(deadlineAt !== undefined ? { deadlineAt } : {}) }, leaseMs);
      dropSids(key);
      sessions.delete(key);
      return clone(session);
    },
    async endRp(key, client, { id, reason, deadlineAt, leaseMs }) {
      const session = sessions.get(key);
      const rp = session?.rps[client];
      if (!session || !rp || rp.endedAt !== undefined) return undefined;
      dropSids(key, client);
      const ended = { ...rp, endedAt: clock.now() };
      const after = { ...session, rps: { ...session.rps, [client]: ended } };
      sessions.set(key, after);
      outbox.appendNow({ id, reason, scope: 'rp', session: clone(after), rps: [clone(ended)], ...(deadlineAt !== undefined ? { deadlineAt } : {}) }, leaseMs);
      return clone(ended);
    },
    async setLimits(key, limits) {
      const session = sessions.get(key);
      if (session) {
        const rps: Record<string, RpSession> = {};
        for (const [client, rp] of Object.entries(session.rps)) {
          const l = limits.rps[client];
          rps[client] = l ? { ...rp, idleSeconds: l.idleSeconds, absoluteSeconds: l.absoluteSeconds, refreshIsActivity: l.refreshIsActivity } : rp;
        }
        sessions.set(key, { ...session, idleSeconds: limits.idleSeconds, absoluteSeconds: limits.absoluteSeconds, warningSeconds: limits.warningSeconds, refreshIsActivity: limits.refreshIsActivity, rps });
      }
      return clone(judge(sessions.get(key), undefined, clock.now()));
    },
    async countActivity(key, source, client) {
      const session = sessions.get(key);
      if (!session) return;
      const before = session.activity?.[source];
      const count = { count: (before?.count ?? 0) + 1, lastAt: clock.now(), ...(client !== undefined ? { lastClient: client } : {}) };
      store.set(key, { ...session, activity: { ...session.activity, [source]: count } });
    },
    async markWarned(key, client, warningAt) {
      const session = sessions.get(key);
      const rp = session?.rps[client];
      if (!session || !rp || rp.endedAt !== undefined || rp.warnedFor === warningAt) return false;
      store.set(key, { ...session, rps: { ...session.rps, [client]: { ...rp, warnedFor: warningAt } } });
      return true;
    },
    async keysOfOrg(org) {
      return [...sessions].filter(([, s]) => s.org === org).map(([k]) => k);
    },
    async keysOfUser(user) {
      return [...sessions].filter(([, s]) => s.user === user).map(([k]) => k);
    },
    async claimDue(limit, leaseMs) {
      const now = clock.now();
      const keys = [...index].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1]).slice(0, limit).map(([k]) => k);
      for (const key of keys) index.set(key, now + leaseMs);
      let nextAt = Infinity;
      for (const at of index.values()) nextAt = Math.min(nextAt, at);
      return { keys, now, ...(index.size ? { nextAt } : {}) };
    },
    async liveRpSessions() {
      // Every record here is a session not yet ended; counted afresh, so exact by construction.
      let live = 0;
      for (const [, session] of sessions) for (const rp of Object.values(session.rps)) if (rp.endedAt === undefined) live++;
      return live;
    },
    async census() {
      const now = clock.now();
      const due = [...index.values()].filter((at) => at <= now);
      return { now, live: index.size, size: index.size, due: due.length, ...(due.length ? { oldestDueAt: Math.min(...due) } : {}) };
    },
  };
}
