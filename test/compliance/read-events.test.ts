import { describe, expect, it } from 'vitest';
import { createAudit } from '../../src/audit/audit.ts';
import { ManualClock } from '../../src/clock.ts';
import { readPeriod } from '../../src/compliance/read-events.ts';
import { createLogger } from '../../src/logger.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';

/** An audit stream over the memory store, its clock pinned from real now; events are written as time moves. */
function stream() {
  const clock = new ManualClock(Date.now());
  const store = createMemoryStore({ clock });
  const audit = createAudit(store.audit, createLogger('silent'));
  return { clock, store, audit, iso: (ms: number) => new Date(ms).toISOString() };
}

describe('reading a compliance period from the audit stream', () => {
  it('reads [since, until) across many pages, oldest dropped, and keeps only the policy changes after until', async () => {
    const t = stream();
    const start = t.clock.now();
    await t.audit({ type: 'session.started', org: 'acme', session: 'before' });
    t.clock.advance(1_000);
    const since = t.clock.now();
    // More than two pages of 500.
    for (let i = 0; i < 1_200; i++) {
      await t.audit({ type: 'session.started', org: 'acme', session: `s-${i}` });
      t.clock.advance(10);
    }
    await t.audit({ type: 'session.started', org: 'globex', session: 'elsewhere' });
    t.clock.set(start + 60_000 - 1);
    await t.audit({ type: 'session.ended', org: 'acme', session: 'last-in' });
    t.clock.set(start + 60_000);
    const until = t.clock.now();
    await t.audit({ type: 'session.started', org: 'acme', session: 'at-until' });
    await t.audit({ type: 'policy.changed', org: 'acme', data: { before: { idleTimeoutSeconds: 900 }, after: { idleTimeoutSeconds: 600 } } });
    t.clock.advance(5_000);
    await t.audit({ type: 'policy.changed', org: 'acme', data: { before: { idleTimeoutSeconds: 600 }, after: { idleTimeoutSeconds: 300 } } });

    const { events, laterPolicyChanges } = await readPeriod(t.store.audit, 'acme', t.iso(since), t.iso(until));
    expect(events).toHaveLength(1_201);
    expect(new Set(events.map((e) => e.id)).size).toBe(1_201);
    expect(events[0]?.session).toBe('last-in');
    expect(events.at(-1)?.session).toBe('s-0');
    expect(events.some((e) => e.session === 'before' || e.session === 'at-until' || e.session === 'elsewhere')).toBe(false);
    for (const e of events) expect(Date.parse(e.at)).toBeGreaterThanOrEqual(since);
    expect(laterPolicyChanges.map((e) => (e.data?.after as { idleTimeoutSeconds: number }).idleTimeoutSeconds)).toEqual([300, 600]);
    await t.store.close();
  });

  it('reads nothing from an empty period', async () => {
    const t = stream();
    const now = t.clock.now();
    expect(await readPeriod(t.store.audit, 'acme', t.iso(now - 60_000), t.iso(now))).toEqual({ events: [], laterPolicyChanges: [] });
    await t.store.close();
  });
});
