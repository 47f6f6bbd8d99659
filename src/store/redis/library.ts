import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * The library's files, in load order: the prelude's helpers first (the shared clock, key
 * templates), then the outbox's `append_ended` before the session functions that end sessions
 * with it. One Redis function library, so every function shares the prelude's locals — Redis'
 * own way of sharing code between functions (a function may not FCALL another).
 */
const FILES = ['prelude', 'models', 'directory', 'marker', 'audit', 'mfa', 'attempts', 'deliveries', 'outbox', 'sessions'] as const;

/** Read from disk once, when the store module is first imported; the files ship in src/. */
const BODY = FILES.map((name) => `-- ${name}.lua\n${readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8')}`).join('\n');

/**
 * The version is the library's own hash: instances of two releases sharing one Redis (a rolling
 * deploy) each load and call their own functions instead of replacing each other's.
 */
const VERSION = createHash('sha256').update(BODY).digest('hex').slice(0, 12);
/** The library's name in Redis (FUNCTION LIST). */
export const LIBRARY = `curfew_${VERSION}`;
const PREFIX = `${LIBRARY}_`;
const SOURCE = `#!lua name=${LIBRARY}\nlocal FUNCTION_PREFIX = '${PREFIX}'\n${BODY}`;

/** The names the library registers (`register(name, …)` in lua/*.lua). */
export type FunctionName =
  | 'now'
  | 'model_upsert' | 'model_consume' | 'model_revoke_grant'
  | 'user_put' | 'record_replace_if' | 'user_delete' | 'client_put' | 'client_delete'
  | 'claim_release'
  | 'audit_append'
  | 'totp_use_step' | 'totp_enroll'
  | 'attempt'
  | 'delivery_claim' | 'delivery_complete' | 'delivery_retry_later' | 'delivery_bury' | 'delivery_revive' | 'delivery_census'
  | 'outbox_append' | 'outbox_claim' | 'outbox_queue' | 'outbox_complete'
  | 'session_login' | 'session_add_rp' | 'session_check' | 'session_check_by_sid' | 'session_end' | 'session_end_rp'
  | 'session_set_limits' | 'session_count_activity' | 'session_mark_warned' | 'session_claim_due' | 'session_census';

/** Calls one function of the library: every key it touches in `keys`, the rest in `args`. */
export type FunctionCall = (name: FunctionName, keys: readonly string[], args?: readonly (string | number)[]) => Promise<unknown>;

/** Redis' answer to an FCALL of a function it does not hold (a restart without persistence, FUNCTION FLUSH). */
const NOT_LOADED = /^ERR Function not found/;
/** Another instance (or an earlier start) loaded this very version first: the functions are there. */
const ALREADY_LOADED = /^ERR Library '[^']+' already exists/;

/**
 * Loads the library into Redis and calls its functions. Loading is asked for at once (the
 * offline queue sends it before any call); a call that finds the functions missing — Redis
 * restarted without persistence, or its functions were flushed — loads them again and retries
 * once. FLUSHALL keeps functions. Concurrent calls share one reload.
 */
export function redisFunctions(redis: Redis): FunctionCall {
  let loading: Promise<void> | undefined;
  const load = () =>
    (loading ??= redis
      .call('FUNCTION', 'LOAD', SOURCE)
      .then(
        () => undefined,
        (error: unknown) => {
          if (!(error instanceof Error && ALREADY_LOADED.test(error.message))) throw error;
        },
      )
      .finally(() => {
        loading = undefined;
      }));
  // A failure here (Redis down at start) is the first call's to meet: it reloads then.
  load().catch(() => {});
  const fcall = (name: FunctionName, keys: readonly string[], args: readonly (string | number)[]) =>
    redis.call('FCALL', `${PREFIX}${name}`, keys.length, ...keys, ...args);
  return async (name, keys, args = []) => {
    try {
      return await fcall(name, keys, args);
    } catch (error) {
      if (!(error instanceof Error && NOT_LOADED.test(error.message))) throw error;
      await load();
      return fcall(name, keys, args);
    }
  };
}
