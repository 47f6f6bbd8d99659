import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAudit } from '../../src/audit/audit.ts';
import type { AuditEventType } from '../../src/audit/types.ts';
import { ManualClock } from '../../src/clock.ts';
import { createLogger } from '../../src/logger.ts';
import { createSecretBox } from '../../src/mfa/secret-box.ts';
import { createMfaService, RECOVERY_CODE_COUNT, type MfaOutcome } from '../../src/mfa/service.ts';
import { newTotpSecret, totpCode } from '../../src/mfa/totp.ts';
import type { User } from '../../src/orgs/types.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import type { MfaStore } from '../../src/store/types.ts';

const LIMIT = 5;
const BLOCK_SECONDS = 900;
const STEP_MS = 30_000;
const alice: User = { id: 'u-alice', org: 'acme', username: 'alice', passwordHash: 'x', roles: [], disabled: false, createdAt: new Date().toISOString() };

/**
 * The service over the memory store, its clock pinned from real now to the middle of a TOTP
 * step (so ±1 step is exact); every signal and audit record it gives is kept.
 */
function setup(wrapMfa: (mfa: MfaStore) => MfaStore = (mfa) => mfa) {
  const clock = new ManualClock(Math.floor(Date.now() / STEP_MS) * STEP_MS + STEP_MS / 2);
  const store = createMemoryStore({ clock });
  const limiter = store.rateLimiter({ name: 'mfa', points: LIMIT, durationSeconds: BLOCK_SECONDS, blockSeconds: BLOCK_SECONDS });
  const outcomes: MfaOutcome[] = [];
  const mfa = createMfaService({
    store: wrapMfa(store.mfa),
    box: createSecretBox([{ kid: 'k1', key: randomBytes(32) }]),
    limiter,
    audit: createAudit(store.audit, createLogger('silent')),
    clock,
    issuerLabel: 'Curfew Test',
    signals: { verified: (outcome) => outcomes.push(outcome) },
  });
  const audited = async (type: AuditEventType) => (await store.audit.query({ org: 'acme', type, limit: 500 })).items;
  return { clock, store, limiter, mfa, outcomes, audited, code: (secret: string, at = clock.now()) => totpCode(secret, at) };
}

/** A six-digit code that is not `right`. */
const wrong = (right: string, i = 0) => {
  const code = String(i).padStart(6, '0');
  return code === right ? '999999' : code;
};

describe('enrollment', () => {
  it('starts with nothing stored, and shows the pending secret as a URI and a QR code for this user', async () => {
    const t = setup();
    const pending = t.mfa.startEnrollment(alice);
    expect(await t.mfa.isEnrolled(alice.id)).toBe(false);
    expect(await t.store.mfa.getEnrollment(alice.id)).toBeUndefined();
    const view = await t.mfa.showEnrollment(alice, pending);
    expect(view.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(view.uri).toMatch(/^otpauth:\/\/totp\//);
    expect(view.uri).toContain(`secret=${view.secret}`);
    expect(decodeURIComponent(view.uri)).toContain('Curfew Test');
    expect(decodeURIComponent(view.uri)).toContain('alice');
    expect(view.qrDataUrl).toMatch(/^data:image\/png;base64,/);
    // The pending secret is sealed to the user: another user cannot open it.
    await expect(t.mfa.showEnrollment({ ...alice, id: 'u-mallory' }, pending)).rejects.toThrow();
  });

  it('refuses a wrong code (one failure audited, nothing stored); the right one enrolls and returns recovery codes once', async () => {
    const t = setup();
    const pending = t.mfa.startEnrollment(alice);
    const { secret } = await t.mfa.showEnrollment(alice, pending);
    const right = await t.code(secret);

    expect(await t.mfa.finishEnrollment(alice, pending, wrong(right))).toEqual({ ok: false, reason: 'invalid' });
    expect(await t.mfa.isEnrolled(alice.id)).toBe(false);
    expect(await t.audited('mfa.failed')).toHaveLength(1);

    const done = await t.mfa.finishEnrollment(alice, pending, ` ${right} `);
    expect(done.ok).toBe(true);
    if (!done.ok) return;
    expect(done.recoveryCodes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(done.recoveryCodes).size).toBe(RECOVERY_CODE_COUNT);
    for (const c of done.recoveryCodes) expect(c).toMatch(/^[A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5}$/);
    expect(await t.mfa.isEnrolled(alice.id)).toBe(true);
    expect(await t.store.mfa.recoveryCodesLeft(alice.id)).toBe(RECOVERY_CODE_COUNT);
    // Only hashes are stored: no recovery code appears in the store's record.
    expect(JSON.stringify(await t.store.mfa.getEnrollment(alice.id))).not.toContain(secret);
    expect((await t.audited('mfa.succeeded')).map((e) => e.data)).toEqual([{ method: 'enrollment' }]);
    expect(t.outcomes).toEqual(['invalid', 'enrollment']);
    // The enrolling code's step is spent: it cannot sign in right after.
    expect(await t.mfa.verify(alice, right)).toEqual({ ok: false, reason: 'replayed' });
  });

  it('success clears the failures before it: LIMIT - 1 failures, success, LIMIT - 1 more do not lock', async () => {
    const t = setup();
    const pending = t.mfa.startEnrollment(alice);
    const { secret } = await t.mfa.showEnrollment(alice, pending);
    const right = await t.code(secret);
    for (let i = 0; i < LIMIT - 1; i++) expect((await t.mfa.finishEnrollment(alice, pending, wrong(right, i))).ok).toBe(false);
    expect((await t.mfa.finishEnrollment(alice, pending, right)).ok).toBe(true);
    t.clock.advance(STEP_MS);
    const next = await t.code(secret);
    for (let i = 0; i < LIMIT - 1; i++) expect(await t.mfa.verify(alice, wrong(next, i))).toEqual({ ok: false, reason: 'invalid' });
    expect((await t.limiter.check(alice.id)).blocked).toBe(false);
    expect(await t.mfa.verify(alice, next)).toEqual({ ok: true, method: 'totp' });
  });

  it('of 50 concurrent finishes with the right code exactly one enrolls; the rest are refused and leave no failure counted', async () => {
    const t = setup();
    const pending = t.mfa.startEnrollment(alice);
    const { secret } = await t.mfa.showEnrollment(alice, pending);
    const right = await t.code(secret);
    const results = await Promise.all(Array.from({ length: 50 }, () => t.mfa.finishEnrollment(alice, pending, right)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    // Each reserves an attempt before its code is judged: those judged lose the race, the others find the attempts taken.
    const lost = results.filter((r) => !r.ok && r.reason === 'already_enrolled').length;
    const refused = results.filter((r) => !r.ok && r.reason === 'locked').length;
    expect(lost).toBeGreaterThan(0);
    expect(lost + refused).toBe(49);
    expect((await t.limiter.check(alice.id)).blocked).toBe(false);
    expect(await t.audited('mfa.succeeded')).toHaveLength(1);
    expect((await t.audited('mfa.failed')).map((e) => e.data)).toEqual(Array.from({ length: lost }, () => ({ reason: 'already_enrolled' })));
    // The one that won stored the pending secret: its next code signs in.
    t.clock.advance(STEP_MS);
    expect(await t.mfa.verify(alice, await t.code(secret))).toEqual({ ok: true, method: 'totp' });
  });

  it('an enrollment left open never replaces the one finished: the second pending secret is refused', async () => {
    const t = setup();
    const first = t.mfa.startEnrollment(alice);
    const second = t.mfa.startEnrollment(alice);
    const firstSecret = (await t.mfa.showEnrollment(alice, first)).secret;
    const secondSecret = (await t.mfa.showEnrollment(alice, second)).secret;
    expect((await t.mfa.finishEnrollment(alice, first, await t.code(firstSecret))).ok).toBe(true);
    expect(await t.mfa.finishEnrollment(alice, second, await t.code(secondSecret))).toEqual({ ok: false, reason: 'already_enrolled' });
    t.clock.advance(STEP_MS);
    expect(await t.mfa.verify(alice, await t.code(secondSecret))).toEqual({ ok: false, reason: 'invalid' });
    expect(await t.mfa.verify(alice, await t.code(firstSecret))).toEqual({ ok: true, method: 'totp' });
  });

  it('pre-enrolls a seed secret, keeps it when seeded again, and replaces a different one', async () => {
    const t = setup();
    const a = newTotpSecret();
    const b = newTotpSecret();
    await t.mfa.enrollSecret(alice, a);
    const stored = await t.store.mfa.getEnrollment(alice.id);
    await t.mfa.enrollSecret(alice, a);
    expect(await t.store.mfa.getEnrollment(alice.id)).toEqual(stored);
    expect(await t.mfa.verify(alice, await t.code(a))).toEqual({ ok: true, method: 'totp' });
    await t.mfa.enrollSecret(alice, b);
    t.clock.advance(STEP_MS);
    expect(await t.mfa.verify(alice, await t.code(a))).toEqual({ ok: false, reason: 'invalid' });
    expect(await t.mfa.verify(alice, await t.code(b))).toEqual({ ok: true, method: 'totp' });
  });
});

describe('verifying a code', () => {
  async function enrolled(wrapMfa?: (mfa: MfaStore) => MfaStore) {
    const t = setup(wrapMfa);
    const pending = t.mfa.startEnrollment(alice);
    const { secret } = await t.mfa.showEnrollment(alice, pending);
    const done = await t.mfa.finishEnrollment(alice, pending, await t.code(secret));
    if (!done.ok) throw new Error(`enrollment failed: ${done.reason}`);
    t.clock.advance(3 * STEP_MS);
    t.outcomes.length = 0;
    return { ...t, secret, recoveryCodes: done.recoveryCodes };
  }

  it('answers not_enrolled for a user without TOTP, and spends no attempt', async () => {
    const t = setup();
    expect(await t.mfa.verify(alice, '123456')).toEqual({ ok: false, reason: 'not_enrolled' });
    expect(await t.audited('mfa.failed')).toHaveLength(0);
    expect(await t.limiter.check(alice.id)).toEqual({ blocked: false, retryAfterSeconds: 0 });
  });

  it('accepts a TOTP code once; the same code again is a replay', async () => {
    const t = await enrolled();
    const code = await t.code(t.secret);
    expect(await t.mfa.verify(alice, code)).toEqual({ ok: true, method: 'totp' });
    expect(await t.mfa.verify(alice, code)).toEqual({ ok: false, reason: 'replayed' });
    expect((await t.audited('mfa.failed')).at(0)?.data).toEqual({ reason: 'replayed' });
    expect(t.outcomes).toEqual(['totp', 'replayed']);
  });

  it('accepts the step either side for drift, and nothing two steps away', async () => {
    const t = await enrolled();
    expect(await t.mfa.verify(alice, await t.code(t.secret, t.clock.now() - 2 * STEP_MS))).toEqual({ ok: false, reason: 'invalid' });
    expect(await t.mfa.verify(alice, await t.code(t.secret, t.clock.now() - STEP_MS))).toEqual({ ok: true, method: 'totp' });
    expect(await t.mfa.verify(alice, await t.code(t.secret, t.clock.now() + STEP_MS))).toEqual({ ok: true, method: 'totp' });
    // A step older than one already used is a replay, though it is within the window.
    expect(await t.mfa.verify(alice, await t.code(t.secret))).toEqual({ ok: false, reason: 'replayed' });
    expect(await t.mfa.verify(alice, await t.code(t.secret, t.clock.now() + 2 * STEP_MS))).toEqual({ ok: false, reason: 'invalid' });
  });

  it('accepts each recovery code once, whatever its case, spaces or dash; a made-up one is invalid', async () => {
    const t = await enrolled();
    const [first, second] = t.recoveryCodes;
    expect(await t.mfa.verify(alice, first!)).toEqual({ ok: true, method: 'recovery' });
    expect(await t.mfa.verify(alice, first!)).toEqual({ ok: false, reason: 'invalid' });
    const sloppy = ` ${second!.toLowerCase().replace('-', ' ')} `;
    expect(await t.mfa.verify(alice, sloppy)).toEqual({ ok: true, method: 'recovery' });
    expect(await t.store.mfa.recoveryCodesLeft(alice.id)).toBe(RECOVERY_CODE_COUNT - 2);
    expect(await t.mfa.verify(alice, 'ABCDE-FGHJK')).toEqual({ ok: false, reason: 'invalid' });
    expect(await t.mfa.verify(alice, 'short')).toEqual({ ok: false, reason: 'invalid' });
    expect((await t.audited('mfa.succeeded')).slice(0, 2).map((e) => e.data)).toEqual([{ method: 'recovery' }, { method: 'recovery' }]);
  });

  it(`locks on the ${LIMIT}th failure (audited once), refuses the right code while locked, and opens when the block ends`, async () => {
    const t = await enrolled();
    for (let i = 0; i < LIMIT - 1; i++) expect(await t.mfa.verify(alice, wrong(await t.code(t.secret), i))).toEqual({ ok: false, reason: 'invalid' });
    const last = await t.mfa.verify(alice, wrong(await t.code(t.secret), 9));
    expect(last).toMatchObject({ ok: false, reason: 'locked' });
    expect(last.ok === false && last.reason === 'locked' && last.retryAfterSeconds).toBeGreaterThan(0);
    const lockedAt = t.clock.now();
    expect(await t.mfa.verify(alice, await t.code(t.secret))).toMatchObject({ ok: false, reason: 'locked' });
    expect(await t.audited('mfa.locked')).toHaveLength(1);
    expect(await t.audited('mfa.failed')).toHaveLength(LIMIT);

    t.clock.set(lockedAt + BLOCK_SECONDS * 1000 - 1);
    expect(await t.mfa.verify(alice, await t.code(t.secret))).toMatchObject({ ok: false, reason: 'locked' });
    t.clock.set(lockedAt + BLOCK_SECONDS * 1000);
    expect(await t.mfa.verify(alice, await t.code(t.secret))).toEqual({ ok: true, method: 'totp' });
  });

  it(`judges exactly ${LIMIT} of 100 parallel wrong codes; the right one among them is refused`, async () => {
    const t = await enrolled();
    const right = await t.code(t.secret);
    const codes = [...Array.from({ length: 99 }, (_, i) => wrong(right, i)), right];
    const results = await Promise.all(codes.map((code) => t.mfa.verify(alice, code)));
    expect(results.filter((r) => r.ok)).toHaveLength(0);
    expect(results.filter((r) => !r.ok && r.reason === 'invalid')).toHaveLength(LIMIT - 1);
    expect(results.filter((r) => !r.ok && r.reason === 'locked')).toHaveLength(100 - (LIMIT - 1));
    expect(results[99]).toMatchObject({ ok: false, reason: 'locked' });
    expect(await t.audited('mfa.failed')).toHaveLength(LIMIT);
    expect(await t.audited('mfa.locked')).toHaveLength(1);
  });

  it('gives the attempt back when judging fails: store errors never lock the user', async () => {
    let failing = false;
    const t = await enrolled((mfa) => ({
      ...mfa,
      useTimeStep: (user, step) => (failing ? Promise.reject(new Error('store down')) : mfa.useTimeStep(user, step)),
    }));
    failing = true;
    for (let i = 0; i < LIMIT * 2; i++) await expect(t.mfa.verify(alice, await t.code(t.secret))).rejects.toThrow('store down');
    expect((await t.limiter.check(alice.id)).blocked).toBe(false);
    expect(await t.audited('mfa.failed')).toHaveLength(0);
    failing = false;
    expect(await t.mfa.verify(alice, await t.code(t.secret))).toEqual({ ok: true, method: 'totp' });
  });

  it('reset removes the enrollment and the lock', async () => {
    const t = await enrolled();
    for (let i = 0; i < LIMIT; i++) await t.mfa.verify(alice, wrong(await t.code(t.secret), i));
    expect((await t.limiter.check(alice.id)).blocked).toBe(true);
    await t.mfa.reset(alice.id);
    expect(await t.mfa.isEnrolled(alice.id)).toBe(false);
    expect((await t.limiter.check(alice.id)).blocked).toBe(false);
    expect(await t.mfa.verify(alice, await t.code(t.secret))).toEqual({ ok: false, reason: 'not_enrolled' });
  });
});

describe('step-up requirements', () => {
  it('names one client or every client (*) until cleared', async () => {
    const t = setup();
    expect(await t.mfa.stepUpRequired(alice.id, 'app-a')).toBe(false);
    await t.mfa.requireStepUp(alice.id, 'app-a');
    expect(await t.mfa.stepUpRequired(alice.id, 'app-a')).toBe(true);
    expect(await t.mfa.stepUpRequired(alice.id, 'app-b')).toBe(false);
    await t.mfa.requireStepUp(alice.id, '*');
    expect(await t.mfa.stepUpRequired(alice.id, 'app-b')).toBe(true);
    await t.mfa.clearStepUps(alice.id);
    expect(await t.mfa.stepUpRequired(alice.id, 'app-a')).toBe(false);
    expect(await t.mfa.stepUpRequired(alice.id, 'app-b')).toBe(false);
    expect(await t.mfa.stepUpRequired('u-bob', 'app-a')).toBe(false);
  });
});
