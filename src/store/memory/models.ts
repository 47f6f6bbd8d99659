import type { Clock } from '../../clock.ts';
import type { ModelIndexes, ModelPayload, ModelStore } from '../types.ts';
import { ExpiringMap } from './expiring-map.ts';

const clone = <T>(value: T): T => structuredClone(value);

export function createMemoryModels(clock: Clock): ModelStore & { purge(): void } {
  const records = new ExpiringMap<ModelPayload>(clock);
  const uidIndex = new ExpiringMap<string>(clock);
  const userCodeIndex = new ExpiringMap<string>(clock);
  // Grant sets carry no expiry of their own: members are pruned by purge() once their records die.
  const grants = new Map<string, Set<string>>();
  const key = (model: string, id: string) => `${model}\u0000${id}`;
  const byIndex = (index: ExpiringMap<string>, model: string, value: string) => {
    const id = index.get(key(model, value));
    const found = id === undefined ? undefined : records.get(key(model, id));
    return found && clone(found);
  };

  return {
    async upsert(model, id, payload, expiresInSeconds, indexes: ModelIndexes) {
      // A TTL of zero or less writes a record that is already dead, as Redis would drop it.
      const expiresAt = expiresInSeconds === undefined ? undefined : clock.now() + expiresInSeconds * 1000;
      records.set(key(model, id), clone(payload), expiresAt);
      if (indexes.uid) uidIndex.set(key(model, indexes.uid), id, expiresAt);
      if (indexes.userCode) userCodeIndex.set(key(model, indexes.userCode), id, expiresAt);
      if (indexes.grantId) {
        const members = grants.get(indexes.grantId) ?? new Set<string>();
        members.add(key(model, id));
        grants.set(indexes.grantId, members);
      }
    },
    async find(model, id) {
      const found = records.get(key(model, id));
      return found && clone(found);
    },
    findByUid: async (model, uid) => byIndex(uidIndex, model, uid),
    findByUserCode: async (model, userCode) => byIndex(userCodeIndex, model, userCode),
    async consume(model, id, atEpochSeconds) {
      const k = key(model, id);
      const found = records.get(k);
      // The first consumption is the fact worth keeping; a replay does not move it.
      if (found && !found.consumed) records.set(k, { ...found, consumed: atEpochSeconds }, records.expiresAt(k));
    },
    async destroy(model, id) {
      records.delete(key(model, id));
    },
    async revokeByGrantId(grantId) {
      for (const k of grants.get(grantId) ?? []) records.delete(k);
      grants.delete(grantId);
    },
    purge() {
      records.purge();
      uidIndex.purge();
      userCodeIndex.purge();
      for (const [grantId, members] of grants) {
        for (const k of members) if (records.get(k) === undefined) members.delete(k);
        if (!members.size) grants.delete(grantId);
      }
    },
  };
}
