import type { Redis } from 'ioredis';
import type { SessionStore } from '../types.ts';
import { addRpReply, decode, int, json, loginReply, queueCensus, rpSession, sessionCheck, ssoSession, strings } from './decode.ts';
import { keyTemplate, type KeySchema } from './keys.ts';
import type { FunctionCall } from './library.ts';

/**
 * SSO and RP sessions (lua/sessions.lua). Every function receives the session's record, the
 * clock pin and the deadline index as its first keys; an end also the outbox entry it appends.
 */
export function createRedisSessions(redis: Redis, call: FunctionCall, k: KeySchema, retainMs: number): SessionStore {
  /** Every session function takes the retention (lua/sessions.lua's register_session) as its last argument. */
  const fn: FunctionCall = (name, keys, args = []) => call(name, keys, [...args, retainMs]);
  const sidTemplate = keyTemplate(k.sid);
  const sessionTemplate = keyTemplate(k.session);
  const orgSessionsTemplate = keyTemplate(k.orgSessions);
  const userSessionsTemplate = keyTemplate(k.userSessions);
  /** The keys every session function starts with. */
  const base = (key: string) => [k.session(key), k.clockPin, k.deadlines];
  const check = async (reply: Promise<unknown>, name: string) => decode(sessionCheck, await reply, name);
  /** The deadline index's members are record keys; callers know sessions by their key. */
  const sessionKeyOf = (member: string) => member.slice(k.session('').length);

  return {
    async login(key, input, ending) {
      const keys = [...base(key), k.ended(ending.id), k.endedDue, k.orgSessions(input.org), k.userSessions(input.user), k.liveRps];
      const args = [JSON.stringify(input), key, JSON.stringify(ending), sidTemplate, orgSessionsTemplate, userSessionsTemplate];
      return decode(loginReply, await fn('session_login', keys, args), 'session_login');
    },
    async addRp(key, rp, ending) {
      const keys = [...base(key), k.ended(ending.id), k.endedDue, k.sid(rp.sidKey), k.liveRps];
      return decode(addRpReply, await fn('session_add_rp', keys, [JSON.stringify(rp), key, JSON.stringify(ending), sidTemplate]), 'session_add_rp');
    },
    check: (key, client, activity) => check(fn('session_check', base(key), [client ?? '', activity]), 'session_check'),
    checkBySid: (sidKey, client, activity) =>
      check(fn('session_check_by_sid', [k.sid(sidKey), k.clockPin, k.deadlines], [client, activity, sidKey, sessionTemplate]), 'session_check_by_sid'),
    touchAll: (key) => check(fn('session_check', base(key), ['', 'all']), 'session_touch_all'),
    async get(key) {
      const raw = await redis.get(k.session(key));
      return raw === null ? undefined : decode(json(ssoSession), raw, `session ${key}`);
    },
    async end(key, ending) {
      const keys = [...base(key), k.ended(ending.id), k.endedDue, k.liveRps];
      const reply = await fn('session_end', keys, [key, JSON.stringify(ending), sidTemplate, orgSessionsTemplate, userSessionsTemplate]);
      return reply === null ? undefined : decode(json(ssoSession), reply, 'session_end');
    },
    async endRp(key, client, ending) {
      const reply = await fn('session_end_rp', [...base(key), k.ended(ending.id), k.endedDue, k.liveRps], [client, JSON.stringify(ending), sidTemplate]);
      return reply === null ? undefined : decode(json(rpSession), reply, 'session_end_rp');
    },
    setLimits: (key, limits) => check(fn('session_set_limits', base(key), [JSON.stringify(limits), sidTemplate]), 'session_set_limits'),
    async countActivity(key, source, client) {
      await fn('session_count_activity', [k.session(key), k.clockPin], [source, client ?? '']);
    },
    async markWarned(key, client, warningAt) {
      return decode(int, await fn('session_mark_warned', [k.session(key)], [client, warningAt]), 'session_mark_warned') === 1;
    },
    keysOfOrg: (org) => redis.smembers(k.orgSessions(org)),
    keysOfUser: (user) => redis.smembers(k.userSessions(user)),
    async claimDue(limit, leaseMs) {
      const [now, next, ...members] = decode(strings, await fn('session_claim_due', [k.clockPin, k.deadlines], [limit, leaseMs]), 'session_claim_due');
      const nextAt = next ? { nextAt: decode(int, next, 'session_claim_due[1]') } : {};
      return { now: decode(int, now, 'session_claim_due[0]'), keys: members.map(sessionKeyOf), ...nextAt };
    },
    async census() {
      const census = decode(queueCensus, await fn('session_census', [k.clockPin, k.deadlines]), 'session_census');
      return { ...census, live: census.size };
    },
    async liveRpSessions() {
      return decode(int, (await redis.get(k.liveRps)) ?? 0, 'liveRpSessions');
    },
  };
}
