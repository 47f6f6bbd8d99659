import { describe, expect, it } from 'vitest';
import { decideMfa, type MfaFacts } from '../../src/mfa/decide.ts';

const modes = ['off', 'reentry', 'always'] as const;
const bools = [false, true];

/** The rule of SPEC §8 written out independently, checked over every combination. */
function expected(f: MfaFacts): string {
  const required = f.mode === 'always' || f.stepUp || f.acrRequested;
  if (f.enrolled) return required ? 'verify' : 'none';
  if (f.stepUp) return f.allowEnrollmentAtReentry ? 'enroll' : 'refuse';
  return required || f.mode !== 'off' ? 'enroll' : 'none';
}

describe('when TOTP is required', () => {
  const all: MfaFacts[] = [];
  for (const mode of modes) for (const enrolled of bools) for (const stepUp of bools) for (const acrRequested of bools) for (const allowEnrollmentAtReentry of bools) {
    all.push({ mode, enrolled, stepUp, acrRequested, allowEnrollmentAtReentry });
  }
  it.each(all.map((f) => [JSON.stringify(f), f] as const))('%s', (_name, f) => {
    expect(decideMfa(f)).toBe(expected(f));
  });

  it('lets an enrolled user of a reentry org sign in with a password alone when nothing timed out', () => {
    expect(decideMfa({ mode: 'reentry', enrolled: true, stepUp: false, acrRequested: false, allowEnrollmentAtReentry: false })).toBe('none');
  });
  it('enrolls at the first sign-in of an org with MFA on', () => {
    expect(decideMfa({ mode: 'reentry', enrolled: false, stepUp: false, acrRequested: false, allowEnrollmentAtReentry: false })).toBe('enroll');
  });
  it('refuses an un-enrolled user at re-entry', () => {
    expect(decideMfa({ mode: 'reentry', enrolled: false, stepUp: true, acrRequested: false, allowEnrollmentAtReentry: false })).toBe('refuse');
  });
});
