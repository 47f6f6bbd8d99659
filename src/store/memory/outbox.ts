import type { Clock } from '../../clock.ts';
import type { DeliveryStore, LogoutOutbox } from '../types.ts';
import type { EndedEntry } from '../../sessions/types.ts';

/** The memory outbox, plus the synchronous append the memory session store's ends use. */
export interface MemoryOutbox extends LogoutOutbox {
  /** Appends in the caller's synchronous step (an end), leased to it for `leaseMs`. */
  appendNow(entry: Omit<EndedEntry, 'queued' | 'endedAt'>, leaseMs: number): EndedEntry;
}

/**
 * The ended-sessions outbox of the embedded default: same leases, one process. Every method
 * runs in one synchronous step; `queueDeliveries` relies on the memory delivery queue's
 * enqueue doing its work before its first await (it has none).
 */
export function createMemoryOutbox(clock: Clock, deliveries: DeliveryStore): MemoryOutbox {
  const all = new Map<string, EndedEntry>();
  const visibleAt = new Map<string, number>();
  function appendNow(entry: Omit<EndedEntry, 'queued' | 'endedAt'>, leaseMs: number): EndedEntry {
    const existing = all.get(entry.id);
    if (existing) return structuredClone(existing);
    const now = clock.now();
    const stored: EndedEntry = { ...structuredClone(entry), endedAt: now, queued: false };
    all.set(entry.id, stored);
    visibleAt.set(entry.id, now + leaseMs);
    return structuredClone(stored);
  }
  return {
    appendNow,
    async append(entry, leaseMs) {
      return appendNow(entry, leaseMs);
    },
    async claim(limit, leaseMs) {
      const now = clock.now();
      const due = [...visibleAt].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1]).slice(0, limit);
      for (const [id] of due) visibleAt.set(id, now + leaseMs);
      return { now, entries: due.flatMap(([id]) => { const e = all.get(id); return e ? [structuredClone(e)] : []; }) };
    },
    async queueDeliveries(id, queued) {
      const entry = all.get(id);
      if (!entry || entry.queued) return false;
      entry.queued = true;
      void deliveries.enqueue(queued);
      return true;
    },
    async complete(id) {
      all.delete(id);
      visibleAt.delete(id);
    },
    async get(id) {
      const entry = all.get(id);
      return entry && structuredClone(entry);
    },
    async size() {
      return all.size;
    },
  };
}
