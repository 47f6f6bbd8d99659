import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import { describeStoreContract } from './contract/index.ts';
import { manualSharedClock } from '../support/shared-clock.ts';

/** A memory store on a manual clock (pure: a fixed start date is fine here, no real service). */
function manual(start?: number) {
  const clock = new ManualClock(start);
  const store = createMemoryStore({ clock });
  return { store, clock: manualSharedClock(clock), cleanup: () => store.close() };
}

describeStoreContract('memory', async (start) => manual(start));

describe('Memory store specifics', () => {
  it('keeps audit ids ordered when the clock stalls or steps back; at follows the id', async () => {
    const clock = new ManualClock();
    const store = createMemoryStore({ clock });
    try {
      const a = await store.audit.append({ type: 'login.failed', org: 'acme' });
      const b = await store.audit.append({ type: 'login.failed', org: 'acme' });
      clock.advance(-5_000);
      const c = await store.audit.append({ type: 'login.failed', org: 'acme' });
      clock.advance(10_000);
      const d = await store.audit.append({ type: 'login.failed', org: 'acme' });
      const t = Date.UTC(2026, 0, 1);
      expect([a.id, b.id, c.id, d.id]).toEqual([`${t}-0`, `${t}-1`, `${t}-2`, `${t + 5_000}-0`]);
      expect(c.at).toBe(new Date(t).toISOString());
      expect((await store.audit.query({ org: 'acme', limit: 10 })).items.map((e) => e.id)).toEqual([d.id, c.id, b.id, a.id]);
    } finally {
      await store.close();
    }
  });

  it('orders ids numerically, not as strings, past ten events in one ms', async () => {
    const store = createMemoryStore({ clock: new ManualClock() });
    try {
      for (let i = 0; i < 12; i++) await store.audit.append({ type: 'login.failed', org: 'acme', data: { i } });
      const first = await store.audit.query({ org: 'acme', limit: 3 });
      const rest = await store.audit.query({ org: 'acme', limit: 20, cursor: first.nextCursor! });
      expect([...first.items, ...rest.items].map((e) => e.data!.i)).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    } finally {
      await store.close();
    }
  });
});
