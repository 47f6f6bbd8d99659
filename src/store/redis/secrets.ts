import type { Redis } from 'ioredis';
import type { SecretStore } from '../types.ts';

export function createRedisSecrets(redis: Redis, p: string): SecretStore {
  return {
    async getOrCreate(name, create) {
      const key = `${p}secret:${name}`;
      // SET NX: of concurrent first starts, exactly one value wins and everyone reads it back.
      await redis.set(key, create(), 'NX');
      const value = await redis.get(key);
      if (value === null) throw new Error(`secret ${name} vanished right after it was stored`);
      return value;
    },
  };
}
