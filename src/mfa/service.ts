import { createHash, randomInt } from 'node:crypto';
import QRCode from 'qrcode';
import type { Audit } from '../audit/audit.ts';
import type { Clock } from '../clock.ts';
import type { User } from '../orgs/types.ts';
import type { RateLimiter, Reservation } from '../rate-limit/rate-limiter.ts';
import type { SealedSecret, SecretBox } from './secret-box.ts';
import type { MfaStore } from './store.ts';
import { checkTotp, newTotpSecret, totpUri } from './totp.ts';

export const RECOVERY_CODE_COUNT = 10;
const RECOVERY_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

export interface PendingEnrollment {
  sealed: SealedSecret;
}

export interface EnrollmentView {
  /** Base32, for manual entry; shown on the enrollment page only. */
  secret: string;
  uri: string;
  qrDataUrl: string;
}

export type VerifyResult =
  | { ok: true; method: 'totp' | 'recovery' }
  | { ok: false; reason: 'invalid' | 'replayed' | 'not_enrolled' }
  | { ok: false; reason: 'locked'; retryAfterSeconds: number };

export type EnrollmentResult =
  | { ok: true; recoveryCodes: string[] }
  | Extract<VerifyResult, { ok: false }>
  // Another enrollment finished first; this one's secret was never stored.
  | { ok: false; reason: 'already_enrolled' };

export interface MfaService {
  isEnrolled(userId: string): Promise<boolean>;
  /** A new secret, sealed for the pending sign-in; nothing is stored on the account yet. */
  startEnrollment(user: User): PendingEnrollment;
  showEnrollment(user: User, pending: PendingEnrollment): Promise<EnrollmentView>;
  /**
   * One valid code finishes enrollment, only if the user has none yet (compare-and-set: of
   * concurrent finishes one wins); returns the recovery codes, shown once. Codes count
   * against the same lockout as {@link verify}.
   */
  finishEnrollment(user: User, pending: PendingEnrollment, code: string): Promise<EnrollmentResult>;
  /** Pre-enrollment from a seed's `totpSecret` (migrations, tests). */
  enrollSecret(user: User, base32Secret: string): Promise<void>;
  /**
   * A TOTP code (±1 step, never twice) or a recovery code (once); 5 failures lock TOTP. Each
   * code reserves an attempt before it is judged, so parallel codes never judge more than the limit.
   */
  verify(user: User, code: string): Promise<VerifyResult>;
  stepUpRequired(userId: string, clientId: string): Promise<boolean>;
  requireStepUp(userId: string, scope: string): Promise<void>;
  clearStepUps(userId: string): Promise<void>;
  reset(userId: string): Promise<void>;
}

/** What the operator's signals hear of codes: how each was judged (never whose it was). */
export type MfaOutcome = 'totp' | 'recovery' | 'enrollment' | Extract<VerifyResult, { ok: false }>['reason'] | 'already_enrolled';
export interface MfaSignals {
  verified(outcome: MfaOutcome): void;
}

export interface MfaServiceDeps {
  signals?: MfaSignals;
  store: MfaStore;
  box: SecretBox;
  limiter: RateLimiter;
  audit: Audit;
  clock: Clock;
  issuerLabel: string;
}

function newRecoveryCode(): string {
  const chars = Array.from({ length: 10 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]);
  return `${chars.slice(0, 5).join('')}-${chars.slice(5).join('')}`;
}

const normalizeRecovery = (code: string) => code.toUpperCase().replace(/[\s-]/g, '');

/** Recovery codes carry 50 random bits, so a plain hash bound to the user is enough at rest. */
const hashRecovery = (userId: string, code: string) =>
  createHash('sha256').update(`curfew-recovery:${userId}:${normalizeRecovery(code)}`).digest('base64url');

export function createMfaService({ store, box, limiter, audit, clock, issuerLabel, signals }: MfaServiceDeps): MfaService {
  const context = (userId: string) => `totp:${userId}`;

  async function secretOf(userId: string): Promise<string | undefined> {
    const enrollment = await store.getEnrollment(userId);
    return enrollment ? box.open(enrollment.secret, context(userId)) : undefined;
  }

  type Refusal = Extract<VerifyResult, { ok: false }>;
  type Judged = { ok: true } | Refusal | { ok: false; reason: 'already_enrolled' };

  /**
   * Judges one code inside a reserved attempt: the attempt is reserved before the code is looked
   * at and stays spent (a failure) unless the code succeeds, which resets the count. An error
   * while judging, or a code that lost an enrollment race, gives the attempt back: no guess was wrong.
   */
  async function withAttempt<R extends Judged>(user: User, judge: (reservation: Extract<Reservation, { granted: true }>) => Promise<R | Refusal>): Promise<R | Refusal> {
    const reservation = await limiter.reserve(user.id);
    if (!reservation.granted) return { ok: false, reason: 'locked', retryAfterSeconds: reservation.retryAfterSeconds };
    let result: R | Refusal;
    try {
      result = await judge(reservation);
    } catch (error) {
      await limiter.refund(user.id);
      throw error;
    }
    if (result.ok) await limiter.reset(user.id);
    else if (result.reason === 'already_enrolled') await limiter.refund(user.id);
    return result;
  }

  /** The reserved attempt stays spent; the one that spent the last point reports the lock. */
  async function failed(user: User, reason: 'invalid' | 'replayed', reservation: { last: boolean }): Promise<Refusal> {
    await audit({ type: 'mfa.failed', org: user.org, user: user.id, data: { reason } });
    if (reservation.last) {
      const state = await limiter.check(user.id);
      if (state.blocked) {
        await audit({ type: 'mfa.locked', org: user.org, user: user.id, data: { retryAfterSeconds: state.retryAfterSeconds } });
        return { ok: false, reason: 'locked', retryAfterSeconds: state.retryAfterSeconds };
      }
    }
    return { ok: false, reason };
  }

  async function issueRecoveryCodes(user: User): Promise<{ codes: string[]; hashes: string[] }> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    return { codes, hashes: codes.map((c) => hashRecovery(user.id, c)) };
  }

  return {
    async isEnrolled(userId) {
      return (await store.getEnrollment(userId)) !== undefined;
    },

    startEnrollment(user) {
      return { sealed: box.seal(newTotpSecret(), context(user.id)) };
    },

    async showEnrollment(user, pending) {
      const secret = box.open(pending.sealed, context(user.id));
      const uri = totpUri(secret, issuerLabel, user.username);
      return { secret, uri, qrDataUrl: await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 1, width: 220 }) };
    },

    async finishEnrollment(user, pending, code) {
      const secret = box.open(pending.sealed, context(user.id));
      type Enrolled = { ok: true; recoveryCodes: string[] } | { ok: false; reason: 'already_enrolled' };
      const result = await withAttempt<Enrolled>(user, async (reservation) => {
        const check = await checkTotp(secret, code.trim(), clock.now());
        if (!check.valid) return failed(user, 'invalid', reservation);
        const { codes, hashes } = await issueRecoveryCodes(user);
        // Compare-and-set: an enrollment left open must never replace the one the user finished.
        if (!(await store.enroll(user.id, { secret: pending.sealed, enrolledAt: new Date(clock.now()).toISOString() }, hashes))) {
          return { ok: false, reason: 'already_enrolled' };
        }
        await store.useTimeStep(user.id, check.timeStep);
        return { ok: true, recoveryCodes: codes };
      });
      signals?.verified(result.ok ? 'enrollment' : result.reason);
      if (result.ok) await audit({ type: 'mfa.succeeded', org: user.org, user: user.id, data: { method: 'enrollment' } });
      else if (result.reason === 'already_enrolled') await audit({ type: 'mfa.failed', org: user.org, user: user.id, data: { reason: 'already_enrolled' } });
      return result;
    },

    async enrollSecret(user, base32Secret) {
      const existing = await secretOf(user.id);
      if (existing === base32Secret) return;
      // A seed names the user's secret: a different one already enrolled is replaced.
      if (existing !== undefined) await store.reset(user.id);
      const { hashes } = await issueRecoveryCodes(user);
      if (!(await store.enroll(user.id, { secret: box.seal(base32Secret, context(user.id)), enrolledAt: new Date(clock.now()).toISOString() }, hashes))) {
        throw new Error(`user ${user.id} enrolled TOTP while the seed was pre-enrolling it`);
      }
    },

    async verify(user, rawCode) {
      const secret = await secretOf(user.id);
      if (!secret) return { ok: false, reason: 'not_enrolled' };
      const code = rawCode.trim();
      const result = await withAttempt<{ ok: true; method: 'totp' | 'recovery' }>(user, async (reservation) => {
        if (/^\d{6}$/.test(code)) {
          const check = await checkTotp(secret, code, clock.now());
          if (!check.valid) return failed(user, 'invalid', reservation);
          // Atomic across instances: a code's time step is accepted once, whoever sees it first.
          if (!(await store.useTimeStep(user.id, check.timeStep))) return failed(user, 'replayed', reservation);
          return { ok: true, method: 'totp' };
        }
        if (normalizeRecovery(code).length !== 10 || !(await store.useRecoveryCode(user.id, hashRecovery(user.id, code)))) {
          return failed(user, 'invalid', reservation);
        }
        return { ok: true, method: 'recovery' };
      });
      signals?.verified(result.ok ? result.method : result.reason);
      if (result.ok) await audit({ type: 'mfa.succeeded', org: user.org, user: user.id, data: { method: result.method } });
      return result;
    },

    async stepUpRequired(userId, clientId) {
      const scopes = await store.stepUpScopes(userId);
      return scopes.includes('*') || scopes.includes(clientId);
    },
    requireStepUp: (userId, scope) => store.requireStepUp(userId, scope),
    async clearStepUps(userId) {
      await store.clearStepUp(userId, await store.stepUpScopes(userId));
    },
    async reset(userId) {
      await store.reset(userId);
      await limiter.reset(userId);
    },
  };
}
