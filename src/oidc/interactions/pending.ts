import type { PendingEnrollment } from '../../mfa/service.ts';
import type { IdentifierHasher } from '../../store/identifier-hash.ts';
import type { ModelStore } from '../../store/types.ts';

/**
 * Where a sign-in stands between its steps: the password is verified, a second factor is not
 * yet. Kept server-side, keyed by the interaction (bound to the browser by its signed cookie).
 */
export type PendingSignIn = (
  | { stage: 'totp' }
  | { stage: 'enroll'; enrollment: PendingEnrollment }
  | { stage: 'enrolled' }
) & {
  accountId: string;
  amr: string[];
  /**
   * A step-up that skipped the password because a live SSO session had it: that session's
   * uid. The session must still be alive when the second factor is submitted.
   */
  sessionUid?: string;
};

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
      await models.upsert(MODEL, hash(uid), { ...pending }, ttlSeconds, {});
    },
    async drop(uid) {
      await models.destroy(MODEL, hash(uid));
    },
  };
}
