import type { Redis } from 'ioredis';
import type { MfaStore, TotpEnrollment } from '../types.ts';

/** KEYS: lastStep  ARGV: step. Accepts a step only if it is later than the last accepted one. */
const USE_STEP = `
local last = tonumber(redis.call('GET', KEYS[1]) or '-1')
local step = tonumber(ARGV[1])
if step <= last then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1`;

/**
 * KEYS: enrollment, recovery  ARGV: enrollment json, recovery hashes... Compare-and-set: writes
 * the enrollment and its recovery codes only if none exists.
 */
const ENROLL = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
if #ARGV > 1 then redis.call('SADD', KEYS[2], unpack(ARGV, 2)) end
return 1`;

type MfaRedis = Redis & {
  curfewUseStep(key: string, step: string): Promise<number>;
  curfewEnroll(enrollment: string, recovery: string, json: string, ...hashes: string[]): Promise<number>;
};

export function createRedisMfa(redis: Redis, p: string): MfaStore {
  const r = redis as MfaRedis;
  r.defineCommand('curfewUseStep', { numberOfKeys: 1, lua: USE_STEP });
  r.defineCommand('curfewEnroll', { numberOfKeys: 2, lua: ENROLL });
  const k = {
    enrollment: (u: string) => `${p}mfa:${u}:totp`,
    step: (u: string) => `${p}mfa:${u}:step`,
    recovery: (u: string) => `${p}mfa:${u}:recovery`,
    stepUp: (u: string) => `${p}mfa:${u}:stepup`,
  };
  return {
    async getEnrollment(user) {
      const raw = await redis.get(k.enrollment(user));
      return raw === null ? undefined : (JSON.parse(raw) as TotpEnrollment);
    },
    async enroll(user, enrollment, hashes) {
      return (await r.curfewEnroll(k.enrollment(user), k.recovery(user), JSON.stringify(enrollment), ...hashes)) === 1;
    },
    async reset(user) {
      await redis.del(k.enrollment(user), k.step(user), k.recovery(user));
    },
    async useTimeStep(user, step) {
      return (await r.curfewUseStep(k.step(user), String(step))) === 1;
    },
    async useRecoveryCode(user, hash) {
      return (await redis.srem(k.recovery(user), hash)) === 1;
    },
    recoveryCodesLeft: (user) => redis.scard(k.recovery(user)),
    async requireStepUp(user, scope) {
      await redis.sadd(k.stepUp(user), scope);
    },
    stepUpScopes: (user) => redis.smembers(k.stepUp(user)),
    async clearStepUp(user, scopes) {
      if (scopes.length) await redis.srem(k.stepUp(user), ...scopes);
    },
  };
}
