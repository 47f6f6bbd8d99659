import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStore } from '../../../src/store/redis/index.ts';
import { LIBRARY } from '../../../src/store/redis/library.ts';
import type { Store } from '../../../src/store/types.ts';
import { deletePrefix, freshPrefix, REDIS_URL } from '../../support/redis.ts';

const LUA_DIR = new URL('../../../src/store/redis/lua/', import.meta.url);

describe("Curfew's Redis function library", () => {
  let prefix: string;
  let store: Store;
  let redis: Redis;
  beforeEach(async () => {
    prefix = freshPrefix('library');
    store = createRedisStore({ url: REDIS_URL, prefix });
    redis = new Redis(REDIS_URL);
    await store.ping();
  });
  afterEach(async () => {
    redis.disconnect();
    await store.close();
    await deletePrefix(prefix);
  });

  it('is loaded once, as one library, when the store starts', async () => {
    await store.now();
    const libraries = (await redis.call('FUNCTION', 'LIST', 'LIBRARYNAME', LIBRARY)) as unknown[];
    expect(libraries).toHaveLength(1);
  });

  it('is loaded again by the first calls after Redis lost it (a restart without persistence), all of them answered', async () => {
    await store.sessions.login('k1', { id: 'uid-1', org: 'acme', user: 'usr_a', idleSeconds: 900, absoluteSeconds: 3600, warningSeconds: 60, refreshIsActivity: false }, { id: 'e1', leaseMs: 1_000 });
    await redis.call('FUNCTION', 'DELETE', LIBRARY);
    const checks = await Promise.all(Array.from({ length: 50 }, () => store.sessions.check('k1', undefined, 'passive')));
    expect(checks.every((c) => c.sso === 'alive')).toBe(true);
    expect((await redis.call('FUNCTION', 'LIST', 'LIBRARYNAME', LIBRARY)) as unknown[]).toHaveLength(1);
  });

  it('names no key in Lua: every key comes from src/store/redis/keys.ts, as KEYS or as a template', () => {
    for (const file of readdirSync(LUA_DIR)) {
      const lua = readFileSync(new URL(file, LUA_DIR), 'utf8');
      // A key kind in Curfew's schema is a word followed by ':' (`sso:`, `org:…:sessions`).
      expect(lua.match(/'[a-z-]*:[a-z:-]*'/g), file).toBeNull();
      expect(lua, file).not.toMatch(/KEYS\[|ARGV\[/);
    }
  });
});
