import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { retryDelivery } from '../../../src/admin/operations/deliveries.ts';
import { isCurfewError } from '../../../src/errors.ts';
import type { Delivery } from '../../../src/logout/types.ts';
import { operationsFixture, type OperationsFixture } from '../../support/operations.ts';

describe('retrying a dead logout delivery (admin operation, SPEC §9)', () => {
  let t: OperationsFixture;
  afterEach(async () => {
    await t.close();
  });
  const delivery = (over: Partial<Delivery> = {}): Delivery => {
    const now = t.clock.now();
    return {
      id: randomUUID(), org: 'acme', client: 'acme-app', uri: 'https://app.example/bcl', sub: 'u-bob', sid: 'sid-1', reason: 'idle',
      session: 'uid-1', endedAt: now, enqueuedAt: now, attempts: 0, state: 'pending', nextAttemptAt: now, ...over,
    };
  };

  it('puts a dead letter back in the queue, due now, and records its state and last error before', async () => {
    t = await operationsFixture();
    const d = delivery();
    await t.store.deliveries.enqueue([d]);
    await t.store.deliveries.bury(d.id, 8, 'HTTP 500');
    t.clock.advance(60_000);
    expect(await retryDelivery(t.deps, t.byAcme, d.id)).toEqual({ id: d.id, state: 'pending' });
    expect(await t.store.deliveries.get(d.id)).toMatchObject({ state: 'pending', nextAttemptAt: t.clock.now() });
    expect(await t.store.deliveries.list('acme', 'dead')).toEqual([]);
    expect(await t.writes()).toEqual([{ action: 'delivery.retry', target: d.id, before: { state: 'dead', lastError: 'HTTP 500' }, after: { state: 'pending' } }]);
  });

  it('refuses a delivery still pending (409): it is being retried already', async () => {
    t = await operationsFixture();
    const d = delivery();
    await t.store.deliveries.enqueue([d]);
    await expect(retryDelivery(t.deps, t.byAcme, d.id)).rejects.toSatisfy((e) => isCurfewError(e, 'conflict'));
    expect(await t.writes()).toEqual([]);
  });

  it('answers 404 for another org\'s delivery or an unknown id, and leaves it dead', async () => {
    t = await operationsFixture();
    const theirs = delivery({ org: 'globex', client: 'globex-app' });
    await t.store.deliveries.enqueue([theirs]);
    await t.store.deliveries.bury(theirs.id, 8, 'gone');
    await expect(retryDelivery(t.deps, t.byAcme, theirs.id)).rejects.toSatisfy((e) => isCurfewError(e, 'not_found'));
    await expect(retryDelivery(t.deps, t.byAcme, randomUUID())).rejects.toSatisfy((e) => isCurfewError(e, 'not_found'));
    expect((await t.store.deliveries.get(theirs.id))?.state).toBe('dead');
    expect(await t.writes('acme')).toEqual([]);
  });

  it('of 50 concurrent retries of one dead letter exactly one revives it; the rest are conflicts', async () => {
    t = await operationsFixture();
    const d = delivery();
    await t.store.deliveries.enqueue([d]);
    await t.store.deliveries.bury(d.id, 8, 'HTTP 500');
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => retryDelivery(t.deps, t.byAcme, d.id)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(isCurfewError(r.reason, 'conflict')).toBe(true);
    expect(await t.writes()).toHaveLength(1);
  });
});
