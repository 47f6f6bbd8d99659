import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis the suites run against. CI guarantees one; a missing Redis fails, never skips. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other run shares, so suites can run in parallel against one Redis. */
export function freshPrefix(label = 'test'): string {
  return `curfew-${label}-${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under the prefix (SCAN, never KEYS: the server may be shared). */
export async function deletePrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
