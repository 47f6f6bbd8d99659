import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './connection.ts';

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
  | 'now' | 'queue_peek'
  | 'model_upsert' | 'model_consume' | 'model_revoke_grant' | 'model_grant_add'
  | 'user_put' | 'record_replace_if' | 'user_delete' | 'client_put' | 'client_delete'
  | 'claim_release'
  | 'audit_append'
  | 'totp_use_step' | 'totp_enroll'
  | 'attempt'
  | 'delivery_claim' | 'delivery_complete' | 'delivery_retry_later' | 'delivery_bury' | 'delivery_revive' | 'delivery_census'
  | 'outbox_append' | 'outbox_claim' | 'outbox_queue' | 'outbox_complete'
  | 'session_login' | 'session_add_rp' | 'session_check' | 'session_check_by_sid' | 'session_check_owned' | 'session_end' | 'session_end_rp'
  | 'session_set_limits' | 'session_count_activity' | 'session_mark_warned' | 'session_claim_due' | 'session_census';

/** Calls one function of the library: every key it touches in `keys`, the rest in `args`. */
export type FunctionCall = (name: FunctionName, keys: readonly string[], args?: readonly (string | number)[]) => Promise<unknown>;

/** Redis' answer to an FCALL of a function it does not hold (a restart without persistence, FUNCTION FLUSH). */
const NOT_LOADED = /^ERR Function not found/;
/** Another instance (or an earlier start) loaded this very version first: the functions are there. */
const ALREADY_LOADED = /^ERR Library '[^']+' already exists/;

/**
 * How functions learn the test clock's pin (RedisStoreOptions.pinnableClock): not at all, by
 * reading its key themselves (one server), or from TypeScript, which reads the key first (cluster).
 */
export type ClockPin = { kind: 'none' } | { kind: 'key'; key: string } | { kind: 'read'; key: string };

/** The servers a library must be on: the one server, or every primary of a cluster (ioredis' current view). */
function primaries(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/**
 * Loads the library into Redis and calls its functions. Loading is asked for at once (the
 * offline queue sends it before any call); a call that finds the functions missing — Redis
 * restarted without persistence, its functions were flushed, or (Cluster) a primary that is new
 * or was promoted without them — loads them again and retries once. On a cluster a library is
 * per primary: it is loaded on every primary ioredis knows, and a miss on any one loads it
 * again wherever it lacks (ALREADY_LOADED elsewhere). FLUSHALL keeps functions. Concurrent
 * calls share one reload.
 *
 * Every call ends with the shared clock's pin (tests only; '' for none), which the library's
 * `register` takes off before the function sees its arguments: on one server the pin key's
 * name (`k<key>`), read inside the function as any key; on Redis Cluster the pinned time
 * itself (`v<ms>`), read by TypeScript first — the pin is one key, and a function may only
 * touch keys of its own slot.
 */
export function redisFunctions(redis: RedisClient, pin: ClockPin = { kind: 'none' }): FunctionCall {
  let loading: Promise<void> | undefined;
  const loadOn = (server: Redis) =>
    server.call('FUNCTION', 'LOAD', SOURCE).then(
      () => undefined,
      (error: unknown) => {
        if (!(error instanceof Error && ALREADY_LOADED.test(error.message))) throw error;
      },
    );
  const load = () =>
    (loading ??= (async () => {
      // A cluster client learns its primaries on connect: wait for that before asking for them.
      if (redis instanceof Cluster && redis.status !== 'ready') await new Promise<void>((resolve, reject) => {
        redis.once('ready', resolve);
        redis.once('end', () => reject(new Error('the Redis Cluster connection ended before it was ready')));
      });
      // A primary that is down (its slots fail anyway) must not keep the others from loading.
      const results = await Promise.allSettled(primaries(redis).map(loadOn));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed && results.every((r) => r.status === 'rejected')) throw failed.reason;
    })().finally(() => {
      loading = undefined;
    }));
  // A failure here (Redis down at start) is the first call's to meet: it reloads then.
  load().catch(() => {});
  const pinArgument = async () => {
    if (pin.kind === 'key') return `k${pin.key}`;
    if (pin.kind === 'read') {
      const pinned = await redis.get(pin.key);
      return pinned === null ? '' : `v${pinned}`;
    }
    return '';
  };
  const fcall = async (name: FunctionName, keys: readonly string[], args: readonly (string | number)[]) =>
    redis.call('fcall', `${PREFIX}${name}`, keys.length, ...keys, ...args, await pinArgument());
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
