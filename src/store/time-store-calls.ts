import { meansUnavailable } from './store-unavailable.ts';

export type StoreCallOutcome = 'ok' | 'error' | 'unavailable';

/** Hears how long one store call took. `operation` is the method's name in code: bounded. */
export type StoreCallObserver = (operation: string, seconds: number, outcome: StoreCallOutcome) => void;

/**
 * Times every asynchronous method of the store and of its parts (`sessions.check`,
 * `rateLimiter.reserve`): the round trip the operator watches for a slow or unreachable Redis.
 * The label is the method's path in code, never an argument, so it stays a small fixed set.
 */
export function timeStoreCalls<T extends object>(target: T, observe: StoreCallObserver, path = ''): T {
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(obj, key, receiver) {
      const value: unknown = Reflect.get(obj, key, receiver);
      if (typeof key !== 'string' || (typeof value !== 'function' && (typeof value !== 'object' || value === null))) return value;
      if (cache.has(key)) return cache.get(key);
      const operation = path ? `${path}.${key}` : key;
      let wrapped: unknown;
      if (typeof value === 'function') {
        wrapped = function timed(this: unknown, ...args: unknown[]) {
          const started = process.hrtime.bigint();
          const result: unknown = Reflect.apply(value, obj, args);
          if (result instanceof Promise) {
            const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
            return result.then(
              (answer: unknown) => {
                observe(operation, seconds(), 'ok');
                return answer;
              },
              (error: unknown) => {
                observe(operation, seconds(), meansUnavailable(error) ? 'unavailable' : 'error');
                throw error;
              },
            );
          }
          // A factory (rateLimiter) hands out an object whose methods reach the store too.
          return typeof result === 'object' && result !== null ? timeStoreCalls(result, observe, operation.replace(/^(.*\.)?/, '')) : result;
        };
      } else {
        wrapped = timeStoreCalls(value as object, observe, operation);
      }
      cache.set(key, wrapped);
      return wrapped;
    },
  });
}
