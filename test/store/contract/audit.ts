import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/types.ts';
import { seqOf } from './fixtures.ts';
import type { ContractSubject, MakeSubject } from './subject.ts';

/** The audit stream: ordered ids stamped by the shared clock, pages, filters. Memory and Redis run this same suite. */
export function describeAuditContract(name: string, make: MakeSubject): void {
  describe(`Audit stream contract: ${name}`, () => {
    let s: ContractSubject;
    let store: Store;
    beforeEach(async () => {
      s = await make();
      store = s.store;
    });
    afterEach(async () => {
      await s.cleanup();
    });

    it("appends events with ordered ids and the store's time, and reads them back as appended", async () => {
      const before = await store.now();
      const a = await store.audit.append({ type: 'login.failed', org: 'acme', user: 'u1', ip: '10.0.0.1', data: { reason: 'password' } });
      const b = await store.audit.append({ type: 'login.succeeded', org: 'acme', user: 'u1' });
      expect(a.id).toMatch(/^\d+-\d+$/);
      expect(Date.parse(a.at)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(a.at)).toBe(Number(a.id.split('-')[0]));
      expect(a.at).toBe(new Date(await s.clock.now()).toISOString());
      const [am, as] = a.id.split('-').map(Number) as [number, number];
      const [bm, bs] = b.id.split('-').map(Number) as [number, number];
      expect(bm > am || (bm === am && bs > as)).toBe(true);
      expect((await store.audit.query({ org: 'acme', limit: 10 })).items).toEqual([b, a]);
    });

    it('pages newest first with a cursor: no duplicates, no gaps, no empty last page', async () => {
      for (let i = 0; i < 25; i++) await store.audit.append({ type: 'login.failed', org: 'acme', data: { i } });
      await store.audit.append({ type: 'login.failed', org: 'globex', data: { i: 99 } });
      const seen: number[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.audit.query({ org: 'acme', limit: 10, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map(seqOf));
        sizes.push(page.items.length);
        cursor = page.nextCursor;
      } while (cursor);
      expect(sizes).toEqual([10, 10, 5]);
      expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => 24 - i));
    });

    it('pages through filtered events spread over a long stream', async () => {
      // More than one scan batch (200) of non-matching events between and around the matches.
      for (let i = 0; i < 450; i++) {
        await store.audit.append({ type: i % 50 === 0 ? 'session.ended' : 'login.failed', org: 'acme', user: i % 50 === 0 ? 'u1' : 'u2', data: { i } });
      }
      const seen: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.audit.query({ org: 'acme', type: 'session.ended', limit: 4, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map(seqOf));
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(seen).toEqual([400, 350, 300, 250, 200, 150, 100, 50, 0]);
      expect(pages).toBe(3);
    });

    it('filters by type, user and session', async () => {
      await store.audit.append({ type: 'login.failed', org: 'acme', user: 'u1' });
      await store.audit.append({ type: 'session.started', org: 'acme', user: 'u1', session: 's1' });
      await store.audit.append({ type: 'session.started', org: 'acme', user: 'u2', session: 's2' });
      const q = (extra: object) => store.audit.query({ org: 'acme', limit: 10, ...extra }).then((p) => p.items.map((e) => `${e.type}/${e.user}`));
      expect(await q({ type: 'session.started' })).toEqual(['session.started/u2', 'session.started/u1']);
      expect(await q({ user: 'u1' })).toEqual(['session.started/u1', 'login.failed/u1']);
      expect(await q({ session: 's2' })).toEqual(['session.started/u2']);
      expect(await q({ type: 'login.failed', user: 'u2' })).toEqual([]);
    });

    it('bounds by since, inclusively', async () => {
      const a = await store.audit.append({ type: 'login.failed', org: 'acme', data: { i: 0 } });
      await s.clock.advance(1_000);
      const b = await store.audit.append({ type: 'login.failed', org: 'acme', data: { i: 1 } });
      await s.clock.advance(1_000);
      await store.audit.append({ type: 'login.failed', org: 'acme', data: { i: 2 } });
      const since = (iso: string) => store.audit.query({ org: 'acme', limit: 10, since: iso }).then((p) => p.items);
      const fromB = await since(b.at);
      expect(fromB.slice(0, 2).map(seqOf)).toEqual([2, 1]);
      for (const e of fromB) expect(Date.parse(e.at)).toBeGreaterThanOrEqual(Date.parse(b.at));
      expect(fromB).toHaveLength(2);
      // Any ISO 8601 spelling of the instant is the same instant, an hour east of UTC included.
      const offset = new Date(Date.parse(b.at) + 3_600_000).toISOString().replace('Z', '+01:00');
      expect((await since(offset)).map(seqOf)).toEqual(fromB.map(seqOf));
      expect((await since(a.at)).map(seqOf)).toEqual([2, 1, 0]);
      expect(await since(new Date((await store.now()) + 60_000).toISOString())).toEqual([]);
    });

    it('keeps orgs apart; events without an org go to _', async () => {
      await store.audit.append({ type: 'login.failed', org: 'acme' });
      await store.audit.append({ type: 'login.failed', user: 'ghost' });
      expect((await store.audit.query({ org: 'globex', limit: 10 })).items).toEqual([]);
      expect((await store.audit.query({ org: '_', limit: 10 })).items.map((e) => e.user)).toEqual(['ghost']);
    });

    it('refuses a cursor it did not issue and a limit below 1', async () => {
      await store.audit.append({ type: 'login.failed', org: 'acme' });
      await expect(store.audit.query({ org: 'acme', limit: 10, cursor: 'not-a-cursor' })).rejects.toMatchObject({ name: 'CurfewError', code: 'invalid_cursor', status: 400 });
      await expect(store.audit.query({ org: 'acme', limit: 0 })).rejects.toBeInstanceOf(RangeError);
    });
  });
}
