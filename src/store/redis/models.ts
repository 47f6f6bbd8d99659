import type { Redis } from 'ioredis';
import type { ModelPayload, ModelStore } from '../types.ts';
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

/** oidc-provider's records (lua/models.lua). */
export function createRedisModels(redis: Redis, fn: FunctionCall, k: KeySchema): ModelStore {
  const find = async (key: string) => parsePayload(await redis.get(key));
  const byIndex = async (model: string, kind: 'uid' | 'userCode', value: string) => {
    const id = await redis.get(k.modelIndex(model, kind, value));
    return id === null ? undefined : find(k.model(model, id));
  };
  return {
    async upsert(model, id, payload, expiresInSeconds, indexes) {
      const keys = [
        k.model(model, id),
        indexes.uid ? k.modelIndex(model, 'uid', indexes.uid) : '',
        indexes.userCode ? k.modelIndex(model, 'userCode', indexes.userCode) : '',
        indexes.grantId ? k.grant(indexes.grantId) : '',
      ];
      await fn('model_upsert', keys, [JSON.stringify(payload), ttlMs(expiresInSeconds), id]);
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
      await fn('model_revoke_grant', [k.grant(grantId)]);
    },
  };
}
