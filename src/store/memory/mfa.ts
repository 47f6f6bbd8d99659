import type { MfaStore } from '../types.ts';
import type { TotpEnrollment } from '../../mfa/types.ts';

export function createMemoryMfa(): MfaStore {
  const enrollments = new Map<string, TotpEnrollment>();
  const steps = new Map<string, number>();
  const recovery = new Map<string, Set<string>>();
  const stepUps = new Map<string, Set<string>>();
  return {
    async getEnrollment(user) {
      const e = enrollments.get(user);
      return e && structuredClone(e);
    },
    async enroll(user, enrollment, hashes) {
      if (enrollments.has(user)) return false;
      enrollments.set(user, structuredClone(enrollment));
      recovery.set(user, new Set(hashes));
      return true;
    },
    async reset(user) {
      enrollments.delete(user);
      steps.delete(user);
      recovery.delete(user);
    },
    async useTimeStep(user, step) {
      if ((steps.get(user) ?? -1) >= step) return false;
      steps.set(user, step);
      return true;
    },
    async useRecoveryCode(user, hash) {
      return recovery.get(user)?.delete(hash) ?? false;
    },
    async recoveryCodesLeft(user) {
      return recovery.get(user)?.size ?? 0;
    },
    async requireStepUp(user, scope) {
      const set = stepUps.get(user) ?? new Set<string>();
      set.add(scope);
      stepUps.set(user, set);
    },
    async stepUpScopes(user) {
      return [...(stepUps.get(user) ?? [])];
    },
    async clearStepUp(user, scopes) {
      for (const scope of scopes) stepUps.get(user)?.delete(scope);
    },
  };
}
