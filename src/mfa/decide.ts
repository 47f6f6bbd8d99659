import type { MfaMode } from '../sessions/policy-types.ts';

export type MfaDecision =
  /** Password alone is enough. */
  | 'none'
  /** Ask for a TOTP (or recovery) code. */
  | 'verify'
  /** Enroll an authenticator now, finished by one valid code. */
  | 'enroll'
  /** TOTP is required but the user never enrolled and may not enroll now: refuse. */
  | 'refuse';

export interface MfaFacts {
  mode: MfaMode;
  allowEnrollmentAtReentry: boolean;
  enrolled: boolean;
  /** A timeout or revocation of this user's sessions left a step-up requirement. */
  stepUp: boolean;
  /** The RP asked for acr_values=urn:curfew:acr:mfa. */
  acrRequested: boolean;
}

/**
 * SPEC §8, after a correct password. TOTP is required under `always`, after a timeout or
 * revocation (`stepUp`, set only where the org's mode is not `off`), or when the RP asks for it.
 * Users of an org with MFA on enroll at a sign-in that needs no step-up — but someone holding
 * only the password after a timeout must not enroll their own authenticator, unless the org allows it.
 */
export function decideMfa(f: MfaFacts): MfaDecision {
  const required = f.mode === 'always' || f.stepUp || f.acrRequested;
  if (f.enrolled) return required ? 'verify' : 'none';
  if (f.stepUp && !f.allowEnrollmentAtReentry) return 'refuse';
  if (required || f.mode !== 'off') return 'enroll';
  return 'none';
}
