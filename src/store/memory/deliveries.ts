import type { Clock } from '../../clock.ts';
import type { DeliveryStore } from '../types.ts';
import type { Delivery } from '../../logout/types.ts';

/** The in-process queue of the embedded default: same leases and dead letters, one process. */
export function createMemoryDeliveries(clock: Clock): DeliveryStore {
  const all = new Map<string, Delivery>();
  const visibleAt = new Map<string, number>();
  return {
    async enqueue(deliveries) {
      for (const d of deliveries) {
        all.set(d.id, structuredClone(d));
        visibleAt.set(d.id, d.nextAttemptAt);
      }
    },
    async claim(limit, leaseMs) {
      const now = clock.now();
      const due = [...visibleAt].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1]).slice(0, limit);
      for (const [id] of due) visibleAt.set(id, now + leaseMs);
      return { now, deliveries: due.map(([id]) => structuredClone(all.get(id)!)) };
    },
    async complete(id) {
      all.delete(id);
      visibleAt.delete(id);
    },
    async retryLater(id, attempts, nextAttemptAt, error) {
      const d = all.get(id);
      if (!d || d.state !== 'pending') return;
      all.set(id, { ...d, attempts, nextAttemptAt, lastError: error });
      visibleAt.set(id, nextAttemptAt);
    },
    async bury(id, attempts, error) {
      const d = all.get(id);
      if (!d || d.state !== 'pending') return;
      all.set(id, { ...d, attempts, state: 'dead', lastError: error });
      visibleAt.delete(id);
    },
    async get(id) {
      const d = all.get(id);
      return d && structuredClone(d);
    },
    async list(org, state) {
      return [...all.values()].filter((d) => d.org === org && d.state === state).map((d) => structuredClone(d)).sort((a, b) => a.enqueuedAt - b.enqueuedAt);
    },
    async census(orgs) {
      const now = clock.now();
      const due = [...visibleAt.values()].filter((at) => at <= now);
      const inOrgs = new Set(orgs);
      const dead = [...all.values()].filter((d) => d.state === 'dead' && inOrgs.has(d.org)).length;
      return { now, size: visibleAt.size, due: due.length, ...(due.length ? { oldestDueAt: Math.min(...due) } : {}), dead };
    },
    async revive(id) {
      const d = all.get(id);
      if (!d || d.state !== 'dead') return false;
      const now = clock.now();
      // A fresh attempt budget: an admin retry after the cause was fixed gets the whole schedule.
      all.set(id, { ...d, state: 'pending', attempts: 0, nextAttemptAt: now });
      visibleAt.set(id, now);
      return true;
    },
  };
}
