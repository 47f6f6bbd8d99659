import type { TotpEnrollment } from './types.ts';

/**
 * The TOTP store port (src/store implements it): TOTP state per user. Replay protection and recovery codes are atomic across instances:
 * a time step or a recovery code is accepted once, by one request, ever.
 */
export interface MfaStore {
  /** One read. */
  getEnrollment(user: string): Promise<TotpEnrollment | undefined>;
  /**
   * Compare-and-set: stores the enrollment and its recovery codes (hashes) in one atomic step,
   * only if the user has no enrollment; false (nothing written) if one exists. Of concurrent
   * calls for one user exactly one succeeds. Replacing an enrollment is `reset` then `enroll`.
   */
  enroll(user: string, enrollment: TotpEnrollment, recoveryCodeHashes: string[]): Promise<boolean>;
  /** Removes enrollment, last step and recovery codes (admin reset). Atomic (one DEL of the three keys). */
  reset(user: string): Promise<void>;
  /** Records `step` as used if it is later than every step used before; false = replay. Atomic compare-and-set. */
  useTimeStep(user: string, step: number): Promise<boolean>;
  /** Removes the code's hash if present; true only for the one caller that removed it. One command (SREM). */
  useRecoveryCode(user: string, hash: string): Promise<boolean>;
  /** One read. */
  recoveryCodesLeft(user: string): Promise<number>;
  /** Step-up requirements: '*' (every client) or client ids, until cleared. One command each. */
  requireStepUp(user: string, scope: string): Promise<void>;
  stepUpScopes(user: string): Promise<string[]>;
  clearStepUp(user: string, scopes: string[]): Promise<void>;
}
