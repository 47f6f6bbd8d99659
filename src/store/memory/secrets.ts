import type { SecretStore } from '../types.ts';

export function createMemorySecrets(): SecretStore {
  const values = new Map<string, string>();
  return {
    async getOrCreate(name, create) {
      // Synchronous check-and-set: no await between them, so concurrent calls cannot both create.
      if (!values.has(name)) values.set(name, create());
      return values.get(name)!;
    },
  };
}
