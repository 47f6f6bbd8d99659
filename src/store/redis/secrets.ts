import type { SecretStore } from '../types.ts';
import type { KeySchema } from './keys.ts';
import type { RedisClient } from './connection.ts';

export function createRedisSecrets(redis: RedisClient, k: KeySchema): SecretStore {
  return {
    async getOrCreate(name, create) {
      const key = k.secret(name);
      // SET NX GET (Redis 7): one command; of concurrent first starts exactly one value is
      // stored, and every caller gets it back (nil means the value offered is the one stored).
      const value = create();
      return (await redis.set(key, value, 'NX', 'GET')) ?? value;
    },
  };
}
