import { randomUUID } from 'node:crypto';
import type { SessionStore } from '../types.ts';
import type { RpSession, SsoSession } from '../../sessions/types.ts';
import type { RedisClient } from './connection.ts';
import { addRpReply, decode, int, json, loginReply, queueCensus, rpSession, sessionCheck, ssoSession, strings } from './decode.ts';
import { keyTemplate, type KeySchema } from './keys.ts';
import type { FunctionCall } from './library.ts';
import { allShards, claimEarliest, peekQueue } from './shards.ts';

/**
 * SSO and RP sessions (lua/sessions.lua). Every function receives the session's record and its
 * shard's deadline index as its first keys; an end also the outbox entry it appends.
 *
 * On Redis Cluster a sid key is looked up by sid alone, so it hashes to its own slot, not the
 * session's: the functions leave it alone and this module writes it in a command of its own —
 * set after the step that started the RP session, deleted after the step that ended it, its
 * TTL moved after a limits change. A crash between the two leaves either no sid key for a live
 * RP session (a status by sid answers `missing`: the RP signs its user out — the safe side) or
 * a stale one (harmless: the status check verifies `rps[client].sidKey` inside the session's
 * step, and the key expires with the record's retention). A status by sid is two steps there:
 * read the sid key, then the owned check.
 */
export function createRedisSessions(redis: RedisClient, call: FunctionCall, k: KeySchema, retainMs: number): SessionStore {
  /** Every session function takes the retention (lua/sessions.lua's register_session) as its last argument. */
  const fn: FunctionCall = (name, keys, args = []) => call(name, keys, [...args, retainMs]);
  /** '' tells the functions that sid keys are this module's to write (Redis Cluster). */
  const sidTemplate = k.cluster ? '' : keyTemplate(k.sid);
  const sessionTemplate = keyTemplate(k.session);
  const orgSessionsTemplate = (shard: number) => keyTemplate((org) => k.orgSessions(org, shard));
  const userSessionsTemplate = (shard: number) => keyTemplate((user) => k.userSessions(user, shard));
  /** The keys every session function starts with. */
  const base = (key: string) => [k.session(key), k.deadlines(k.shardOf(key))];
  const check = async (reply: Promise<unknown>, name: string) => decode(sessionCheck, await reply, name);
  /** An ending must be made for this session (endingId): its entry is written in the session's shard. */
  const endedKeys = (key: string, endingId: string) => {
    const shard = k.shardOf(key);
    if (k.shardOfId(endingId) !== shard) throw new Error(`ending ${endingId} was not made for session ${key} (SessionStore.endingId)`);
    return [k.ended(endingId, shard), k.endedDue(shard)];
  };
  /** How long a sid key lives: as its session's record (lua/sessions.lua retain_ms). */
  const retainOf = (s: SsoSession, now: number) => Math.max(s.signedInAt + s.absoluteSeconds * 1000 - now, 0) + retainMs;
  const dropSids = async (rps: Iterable<Pick<RpSession, 'sidKey'>>) => {
    const keys = [...rps].filter((rp) => rp.sidKey).map((rp) => k.sid(rp.sidKey));
    // One DEL per key: on a cluster each is its own slot.
    if (k.cluster) await Promise.all(keys.map((key) => redis.del(key)));
  };
  let rotation = 0;
  const sum = async (read: (shard: number) => Promise<number>) => (await Promise.all(allShards(k.shards).map(read))).reduce((a, b) => a + b, 0);
  const union = async (read: (shard: number) => Promise<string[]>) => [...new Set((await Promise.all(allShards(k.shards).map(read))).flat())];

  return {
    endingId: (key) => `${k.endingIdPrefix(key)}${randomUUID()}`,
    async login(key, input, ending) {
      const shard = k.shardOf(key);
      const keys = [...base(key), ...endedKeys(key, ending.id), k.orgSessions(input.org, shard), k.userSessions(input.user, shard), k.liveRps(shard)];
      const args = [JSON.stringify(input), key, JSON.stringify(ending), sidTemplate, orgSessionsTemplate(shard), userSessionsTemplate(shard)];
      const reply = decode(loginReply, await fn('session_login', keys, args), 'session_login');
      if (reply.replaced) await dropSids(Object.values(reply.replaced.rps));
      return reply;
    },
    async addRp(key, rp, ending) {
      const keys = [...base(key), ...endedKeys(key, ending.id), k.liveRps(k.shardOf(key)), ...(k.cluster ? [] : [k.sid(rp.sidKey)])];
      const reply = decode(addRpReply, await fn('session_add_rp', keys, [JSON.stringify(rp), key, JSON.stringify(ending), sidTemplate]), 'session_add_rp');
      if (k.cluster) {
        // The replaced RP session's sid first: it may be the same key the new one now takes.
        if (reply.replaced) await dropSids([reply.replaced]);
        if (reply.session?.rps[rp.client]) await redis.set(k.sid(rp.sidKey), key, 'PX', retainOf(reply.session, reply.now));
      }
      return reply;
    },
    check: (key, client, activity) => check(fn('session_check', base(key), [client ?? '', activity]), 'session_check'),
    async checkBySid(sidKey, client, activity) {
      if (!k.cluster) return check(fn('session_check_by_sid', [k.sid(sidKey), k.deadlines(0)], [client, activity, sidKey, sessionTemplate]), 'session_check_by_sid');
      const key = await redis.get(k.sid(sidKey));
      if (key === null) return { now: decode(int, await call('now', []), 'now'), sso: 'missing', rp: 'missing' };
      return check(fn('session_check_owned', base(key), [client, activity, sidKey]), 'session_check_owned');
    },
    touchAll: (key) => check(fn('session_check', base(key), ['', 'all']), 'session_touch_all'),
    async get(key) {
      const raw = await redis.get(k.session(key));
      return raw === null ? undefined : decode(json(ssoSession), raw, `session ${key}`);
    },
    async end(key, ending) {
      const shard = k.shardOf(key);
      const keys = [...base(key), ...endedKeys(key, ending.id), k.liveRps(shard)];
      const reply = await fn('session_end', keys, [key, JSON.stringify(ending), sidTemplate, orgSessionsTemplate(shard), userSessionsTemplate(shard)]);
      if (reply === null) return undefined;
      const session = decode(json(ssoSession), reply, 'session_end');
      await dropSids(Object.values(session.rps));
      return session;
    },
    async endRp(key, client, ending) {
      const reply = await fn('session_end_rp', [...base(key), ...endedKeys(key, ending.id), k.liveRps(k.shardOf(key))], [client, JSON.stringify(ending), sidTemplate]);
      if (reply === null) return undefined;
      const rp = decode(json(rpSession), reply, 'session_end_rp');
      await dropSids([rp]);
      return rp;
    },
    async setLimits(key, limits) {
      const result = await check(fn('session_set_limits', base(key), [JSON.stringify(limits), sidTemplate]), 'session_set_limits');
      if (k.cluster && result.session) {
        const ttl = retainOf(result.session, result.now);
        await Promise.all(Object.values(result.session.rps).map((rp) => redis.pexpire(k.sid(rp.sidKey), ttl)));
      }
      return result;
    },
    async countActivity(key, source, client) {
      await fn('session_count_activity', [k.session(key)], [source, client ?? '']);
    },
    async markWarned(key, client, warningAt) {
      return decode(int, await fn('session_mark_warned', [k.session(key)], [client, warningAt]), 'session_mark_warned') === 1;
    },
    keysOfOrg: (org) => union((shard) => redis.smembers(k.orgSessions(org, shard))),
    keysOfUser: (user) => union((shard) => redis.smembers(k.userSessions(user, shard))),
    async claimDue(limit, leaseMs) {
      const { items, now, nextAt } = await claimEarliest(k.shards, limit, rotation++, (shard, n) => peekQueue(call, k.deadlines(shard), n), async (shard, count) => {
        const [now, next, ...members] = decode(strings, await fn('session_claim_due', [k.deadlines(shard)], [count, leaseMs]), 'session_claim_due');
        return { items: members.map(k.sessionKeyOf), now: decode(int, now, 'session_claim_due[0]'), ...(next ? { nextAt: decode(int, next, 'session_claim_due[1]') } : {}) };
      });
      return { now, keys: items, ...(nextAt !== undefined ? { nextAt } : {}) };
    },
    async census() {
      const shards = await Promise.all(allShards(k.shards).map(async (shard) => decode(queueCensus, await fn('session_census', [k.deadlines(shard)]), 'session_census')));
      const oldest = shards.flatMap((c) => (c.oldestDueAt === undefined ? [] : [c.oldestDueAt]));
      const size = shards.reduce((n, c) => n + c.size, 0);
      return {
        now: Math.max(...shards.map((c) => c.now)),
        size,
        due: shards.reduce((n, c) => n + c.due, 0),
        ...(oldest.length ? { oldestDueAt: Math.min(...oldest) } : {}),
        live: size,
      };
    },
    liveRpSessions: () => sum(async (shard) => decode(int, (await redis.get(k.liveRps(shard))) ?? 0, 'liveRpSessions')),
  };
}
