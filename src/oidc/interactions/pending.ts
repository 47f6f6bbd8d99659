import type { PendingEnrollment } from '../../mfa/service.ts';
import type { IdentifierHasher } from '../../store/identifier-hash.ts';
import type { ModelStore } from '../../store/types.ts';

/**
 * Where a sign-in stands between its steps: the password is verified, a second factor is not
 * yet. Kept server-side, keyed by the interaction (bound to the browser by its signed cookie).
 */
export type PendingSignIn =
  | { stage: 'totp'; accountId: string; amr: string[] }
  | { stage: 'enroll'; accountId: string; amr: string[]; enrollment: PendingEnrollment }
  | { stage: 'enrolled'; accountId: string; amr: string[] };

export interface PendingSignIns {
  get(uid: string): Promise<PendingSignIn | undefined>;
  put(uid: string, pending: PendingSignIn): Promise<void>;
  drop(uid: string): Promise<void>;
}

const MODEL = 'CurfewPendingSignIn';

export function createPendingSignIns(models: ModelStore, hash: IdentifierHasher, ttlSeconds: number): PendingSignIns {
  return {
    async get(uid) {
      return (await models.find(MODEL, hash(uid))) as PendingSignIn | undefined;
    },
    async put(uid, pending) {
      await models.upsert(MODEL, hash(uid), pending as unknown as Record<string, unknown>, ttlSeconds, {});
    },
    async drop(uid) {
      await models.destroy(MODEL, hash(uid));
    },
  };
}
