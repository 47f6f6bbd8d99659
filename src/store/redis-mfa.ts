import type { Redis } from 'ioredis';
import type { MfaStore, TotpEnrollment } from './types.ts';

/** KEYS: lastStep  ARGV: step. Accepts a step only if it is later than the last accepted one. */
const USE_STEP = `
local last = tonumber(redis.call('GET', KEYS[1]) or '-1')
local step = tonumber(ARGV[1])
if step <= last then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1`;

type MfaRedis = Redis & { curfewUseStep(key: string, step: string): Promise<number> };

export function createRedisMfa(redis: Redis, p: string): MfaStore {
  const r = redis as MfaRedis;
  r.defineCommand('curfewUseStep', { numberOfKeys: 1, lua: USE_STEP });
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
      const tx = redis.multi().set(k.enrollment(user), JSON.stringify(enrollment)).del(k.recovery(user));
      if (hashes.length) tx.sadd(k.recovery(user), ...hashes);
      await tx.exec();
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
