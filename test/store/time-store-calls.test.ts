import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.ts';
import { timeStoreCalls, type StoreCallOutcome } from '../../src/store/time-store-calls.ts';

describe('timing store calls', () => {
  function observed() {
    const calls: Array<[string, StoreCallOutcome]> = [];
    const seconds: number[] = [];
    return { calls, seconds, observe: (op: string, s: number, outcome: StoreCallOutcome) => (calls.push([op, outcome]), seconds.push(s)) };
  }
  const target = {
    kind: 'memory' as const,
    async ping() {
      await new Promise((r) => setTimeout(r, 5));
      return 'pong';
    },
    sessions: {
      async get(id: string) {
        return id === 'x' ? { id } : undefined;
      },
      async fail() {
        throw new Error('a bug');
      },
      async down() {
        throw new StoreUnavailableError();
      },
    },
    rateLimiter: (name: string) => ({ async reserve(key: string) {
      return `${name}:${key}`;
    } }),
  };

  it('labels each call by its method path, never an argument, with the time it took', async () => {
    const o = observed();
    const store = timeStoreCalls(target, o.observe);
    expect(await store.ping()).toBe('pong');
    expect(await store.sessions.get('x')).toEqual({ id: 'x' });
    expect(await store.rateLimiter('login').reserve('10.0.0.1')).toBe('login:10.0.0.1');
    expect(store.kind).toBe('memory');
    expect(o.calls).toEqual([['ping', 'ok'], ['sessions.get', 'ok'], ['rateLimiter.reserve', 'ok']]);
    expect(o.seconds[0]).toBeGreaterThanOrEqual(0.004);
  });

  it('tells an unavailable store from any other error, and rethrows both', async () => {
    const o = observed();
    const store = timeStoreCalls(target, o.observe);
    await expect(store.sessions.fail()).rejects.toThrow('a bug');
    await expect(store.sessions.down()).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(o.calls).toEqual([['sessions.fail', 'error'], ['sessions.down', 'unavailable']]);
  });

  it('hands out the same wrapper each time', () => {
    const store = timeStoreCalls(target, observed().observe);
    expect(store.sessions).toBe(store.sessions);
    expect(store.ping).toBe(store.ping);
  });
});
