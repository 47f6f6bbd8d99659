import type { ModelPayload, ModelStore } from '../types.ts';
import type { RedisClient } from './connection.ts';
import type { KeySchema } from './keys.ts';
import type { FunctionCall } from './library.ts';

/** Whole milliseconds for `PX`, which takes integers only. */
const ttlMs = (seconds: number | undefined) => (seconds === undefined ? '' : String(Math.ceil(seconds * 1000)));

/**
 * oidc-provider's payloads are its own, opaque to the store: they are parsed, not checked
 * field by field (the provider validates what it reads back).
 */
const parsePayload = (raw: string | null): ModelPayload | undefined => {
  if (raw === null) return undefined;
  const value: unknown = JSON.parse(raw);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('a model record is not a JSON object');
  return value as ModelPayload;
};

/**
 * oidc-provider's records (lua/models.lua). On one primary an upsert (record, indexes, grant
 * set) and a revoke are one function each. On Redis Cluster a record, its indexes and its grant
 * set are each their own slot, so those steps are split, in an order whose every crash point is
 * safe: an upsert writes the grant set membership first (a revoke never misses a record that
 * exists; a crash leaves a member with no record, which a revoke deletes harmlessly), then the
 * indexes (a crash leaves an index leading to nothing: not found, as after expiry), then the
 * record; a revoke reads the set, deletes each record, then removes just the members it read
 * (one upserted meanwhile stays listed for the next revoke).
 */
export function createRedisModels(redis: RedisClient, fn: FunctionCall, k: KeySchema): ModelStore {
  const find = async (key: string) => parsePayload(await redis.get(key));
  const byIndex = async (model: string, kind: 'uid' | 'userCode', value: string) => {
    const id = await redis.get(k.modelIndex(model, kind, value));
    return id === null ? undefined : find(k.model(model, id));
  };
  return {
    async upsert(model, id, payload, expiresInSeconds, indexes) {
      const record = k.model(model, id);
      const ttl = ttlMs(expiresInSeconds);
      const index = (kind: 'uid' | 'userCode') => (indexes[kind] ? k.modelIndex(model, kind, indexes[kind]) : '');
      if (!k.cluster) {
        await fn('model_upsert', [record, index('uid'), index('userCode'), indexes.grantId ? k.grant(indexes.grantId) : ''], [JSON.stringify(payload), ttl, id]);
        return;
      }
      // A TTL of zero or less deletes the record (model_upsert): nothing to list or index.
      const live = ttl === '' || Number(ttl) > 0;
      if (live && indexes.grantId) await fn('model_grant_add', [k.grant(indexes.grantId)], [record, ttl]);
      if (live) {
        await Promise.all(
          [index('uid'), index('userCode')].filter(Boolean).map((key) => (ttl === '' ? redis.set(key, id) : redis.set(key, id, 'PX', Number(ttl)))),
        );
      }
      await fn('model_upsert', [record], [JSON.stringify(payload), ttl, id]);
    },
    find: (model, id) => find(k.model(model, id)),
    findByUid: (model, uid) => byIndex(model, 'uid', uid),
    findByUserCode: (model, userCode) => byIndex(model, 'userCode', userCode),
    async consume(model, id, at) {
      // The function splices the number into JSON text: only a finite number may go there.
      if (!Number.isFinite(at)) throw new RangeError(`consume needs epoch seconds, got ${at}`);
      await fn('model_consume', [k.model(model, id)], [String(at)]);
    },
    async destroy(model, id) {
      await redis.del(k.model(model, id));
    },
    async revokeByGrantId(grantId) {
      if (!k.cluster) {
        await fn('model_revoke_grant', [k.grant(grantId)]);
        return;
      }
      const members = await redis.smembers(k.grant(grantId));
      if (!members.length) return;
      await Promise.all(members.map((key) => redis.del(key)));
      await redis.srem(k.grant(grantId), ...members);
    },
  };
}
