import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ContractSubject, MakeSubject } from './subject.ts';

/** The store answers, and its now() is the shared clock the test pins. Memory and Redis run this same suite. */
export function describeClockContract(name: string, make: MakeSubject): void {
  describe(`Shared clock contract: ${name}`, () => {
    let s: ContractSubject;
    beforeEach(async () => {
      s = await make();
    });
    afterEach(async () => {
      await s.cleanup();
    });

    it('answers ping and tells the shared time', async () => {
      await s.store.ping();
      const now = await s.store.now();
      expect(Number.isInteger(now)).toBe(true);
      expect(now).toBe(await s.clock.now());
    });
  });
}
