import { StoreUnavailableError } from '../errors.ts';

/** Redis replies that mean "not now", not "no such thing" or "your script is wrong". */
const TRANSIENT_REPLY = /^(LOADING|BUSY|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|OOM)\b/;
/**
 * ioredis' own words for a command that never got an answer, a cluster's included (its slot's
 * primary unreachable through every redirection, or no node reachable at all).
 */
const NO_ANSWER = /Command timed out|Connection is closed|Stream isn't writeable|max retries per request|connect ETIMEDOUT|Too many Cluster redirections|None of startup nodes is available|Cluster isn't ready|Failed to refresh slots cache/i;
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTCONN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/** Whether an error from a Redis command means the store could not answer (as opposed to a bug or a domain refusal). */
export function meansUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof StoreUnavailableError) return true;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && NETWORK_CODES.has(code)) return true;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  if (error.name === 'ReplyError') return TRANSIENT_REPLY.test(error.message);
  return NO_ANSWER.test(error.message);
}

const toUnavailable = (error: unknown) => {
  throw meansUnavailable(error) && !(error instanceof StoreUnavailableError) ? new StoreUnavailableError({ cause: error }) : error;
};

/**
 * The store boundary: every method of the store (and of its parts, and of the limiters it
 * makes) fails with {@link StoreUnavailableError} when the store could not answer. Callers need
 * not tell a down Redis from a missing record: a missing record is `undefined`, a down Redis
 * is this error, and nothing in between catches it and calls a session dead.
 */
export function guardStore<T extends object>(target: T): T {
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(obj, key, receiver) {
      const value: unknown = Reflect.get(obj, key, receiver);
      if (typeof value !== 'function' && (typeof value !== 'object' || value === null)) return value;
      if (cache.has(key)) return cache.get(key);
      let wrapped: unknown;
      if (typeof value === 'function') {
        wrapped = function guarded(this: unknown, ...args: unknown[]) {
          let result: unknown;
          try {
            result = Reflect.apply(value, obj, args);
          } catch (error) {
            return toUnavailable(error);
          }
          if (result instanceof Promise) return result.catch(toUnavailable);
          // A factory (rateLimiter) hands out an object whose methods reach the store too.
          return typeof result === 'object' && result !== null ? guardStore(result) : result;
        };
      } else {
        wrapped = guardStore(value as object);
      }
      cache.set(key, wrapped);
      return wrapped;
    },
  });
}
