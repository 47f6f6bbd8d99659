import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/types.ts';
import type { ContractSubject, MakeSubject } from './subject.ts';

/** Generated material shared by every instance: created once. Memory and Redis run this same suite. */
export function describeSecretsContract(name: string, make: MakeSubject): void {
  describe(`Secrets contract: ${name}`, () => {
    let s: ContractSubject;
    let store: Store;
    beforeEach(async () => {
      s = await make();
      store = s.store;
    });
    afterEach(async () => {
      await s.cleanup();
    });

    it('creates a value once; concurrent first calls agree', async () => {
      let n = 0;
      const values = await Promise.all(Array.from({ length: 10 }, () => store.secrets.getOrCreate('k', () => `v${n++}`)));
      expect(new Set(values).size).toBe(1);
      expect(await store.secrets.getOrCreate('k', () => 'other')).toBe(values[0]);
      expect(await store.secrets.getOrCreate('other-name', () => 'x')).toBe('x');
    });
  });
}
