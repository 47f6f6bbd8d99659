import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/types.ts';
import type { ContractSubject, MakeSubject } from './subject.ts';

/** TOTP enrollments and recovery codes: compare-and-set across instances. Memory and Redis run this same suite. */
export function describeMfaContract(name: string, make: MakeSubject): void {
  describe(`MFA store contract: ${name}`, () => {
    let s: ContractSubject;
    let store: Store;
    beforeEach(async () => {
      s = await make();
      store = s.store;
    });
    afterEach(async () => {
      await s.cleanup();
    });

    const sealed = (ct: string) => ({ secret: { kid: 'k1', iv: 'iv', ct, tag: 'tag' }, enrolledAt: '2026-01-01T00:00:00.000Z' });

    it('enrolls only a user without an enrollment; the first one stays', async () => {
      expect(await store.mfa.enroll('u1', sealed('first'), ['h1', 'h2'])).toBe(true);
      expect(await store.mfa.enroll('u1', sealed('second'), ['h3'])).toBe(false);
      expect((await store.mfa.getEnrollment('u1'))?.secret.ct).toBe('first');
      expect(await store.mfa.recoveryCodesLeft('u1')).toBe(2);
      expect(await store.mfa.useRecoveryCode('u1', 'h3')).toBe(false);
    });

    it('of 50 concurrent enrollments exactly one wins, with its own recovery codes', async () => {
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.mfa.enroll('u1', sealed(`s${i}`), [`h${i}`])));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await store.mfa.getEnrollment('u1'))?.secret.ct).toBe(`s${winner}`);
      expect(await store.mfa.recoveryCodesLeft('u1')).toBe(1);
      expect(await store.mfa.useRecoveryCode('u1', `h${winner}`)).toBe(true);
    });

    it('enrolls again after a reset (admin reset)', async () => {
      await store.mfa.enroll('u1', sealed('first'), ['h1']);
      await store.mfa.reset('u1');
      expect(await store.mfa.getEnrollment('u1')).toBeUndefined();
      expect(await store.mfa.enroll('u1', sealed('second'), [])).toBe(true);
      expect((await store.mfa.getEnrollment('u1'))?.secret.ct).toBe('second');
      expect(await store.mfa.recoveryCodesLeft('u1')).toBe(0);
    });
  });
}
