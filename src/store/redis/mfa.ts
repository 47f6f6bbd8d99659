import type { MfaStore } from '../types.ts';
import type { TotpEnrollment } from '../../mfa/types.ts';
import { decode, int } from './decode.ts';
import type { KeySchema } from './keys.ts';
import type { FunctionCall } from './library.ts';
import type { RedisClient } from './connection.ts';

/** TOTP state per user (lua/mfa.lua). */
export function createRedisMfa(redis: RedisClient, fn: FunctionCall, k: KeySchema): MfaStore {
  const yes = async (reply: Promise<unknown>, name: string) => decode(int, await reply, name) === 1;
  return {
    async getEnrollment(user) {
      const raw = await redis.get(k.totp(user));
      return raw === null ? undefined : (JSON.parse(raw) as TotpEnrollment);
    },
    async enroll(user, enrollment, hashes) {
      return yes(fn('totp_enroll', [k.totp(user), k.recoveryCodes(user)], [JSON.stringify(enrollment), ...hashes]), 'totp_enroll');
    },
    async reset(user) {
      await redis.del(k.totp(user), k.totpStep(user), k.recoveryCodes(user));
    },
    async useTimeStep(user, step) {
      return yes(fn('totp_use_step', [k.totpStep(user)], [String(step)]), 'totp_use_step');
    },
    async useRecoveryCode(user, hash) {
      return (await redis.srem(k.recoveryCodes(user), hash)) === 1;
    },
    recoveryCodesLeft: (user) => redis.scard(k.recoveryCodes(user)),
    async requireStepUp(user, scope) {
      await redis.sadd(k.stepUp(user), scope);
    },
    stepUpScopes: (user) => redis.smembers(k.stepUp(user)),
    async clearStepUp(user, scopes) {
      if (scopes.length) await redis.srem(k.stepUp(user), ...scopes);
    },
  };
}
