import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/types.ts';
import type { ContractSubject, MakeSubject } from './subject.ts';

/** oidc-provider's records: TTLs, indexes, consume and grant revocation. Memory and Redis run this same suite. */
export function describeModelContract(name: string, make: MakeSubject): void {
  describe(`Model store contract: ${name}`, () => {
    let s: ContractSubject;
    let store: Store;
    beforeEach(async () => {
      s = await make();
      store = s.store;
    });
    afterEach(async () => {
      await s.cleanup();
    });

    it('finds what was upserted, a copy each time', async () => {
      await store.models.upsert('Session', 'h1', { jti: 'h1', uid: 'u1', n: 1 }, 60, { uid: 'hu1' });
      const found = await store.models.find('Session', 'h1');
      expect(found).toEqual({ jti: 'h1', uid: 'u1', n: 1 });
      found!.n = 2;
      expect((await store.models.find('Session', 'h1'))!.n).toBe(1);
      expect(await store.models.find('AccessToken', 'h1')).toBeUndefined();
    });

    it('replaces the payload on a second upsert', async () => {
      await store.models.upsert('Session', 'h1', { v: 1, gone: true }, 60, {});
      await store.models.upsert('Session', 'h1', { v: 2 }, 60, {});
      expect(await store.models.find('Session', 'h1')).toEqual({ v: 2 });
    });

    it('finds by uid and by user code, within the model only', async () => {
      await store.models.upsert('Session', 'h1', { uid: 'u1' }, 60, { uid: 'hu1' });
      await store.models.upsert('DeviceCode', 'd1', { userCode: 'UC' }, 60, { userCode: 'huc' });
      expect(await store.models.findByUid('Session', 'hu1')).toEqual({ uid: 'u1' });
      expect(await store.models.findByUserCode('DeviceCode', 'huc')).toEqual({ userCode: 'UC' });
      expect(await store.models.findByUid('Session', 'nope')).toBeUndefined();
      expect(await store.models.findByUid('Interaction', 'hu1')).toBeUndefined();
      expect(await store.models.findByUserCode('Session', 'huc')).toBeUndefined();
    });

    it('does not find by an index whose record was destroyed', async () => {
      await store.models.upsert('Session', 'h1', { uid: 'u1' }, 60, { uid: 'hu1' });
      await store.models.destroy('Session', 'h1');
      expect(await store.models.findByUid('Session', 'hu1')).toBeUndefined();
    });

    it('expires records and indexes at their TTL; consume keeps the expiry; an upsert slides it', async () => {
      // The one test that waits in real time for Redis (1.2 s); the manual clock checks to the ms.
      const manual = !s.modelTtlsInRealTime;
      const pass = (ms: number) => (manual ? s.clock.advance(ms) : sleep(ms));
      await store.models.upsert('Session', 's1', { uid: 'u1' }, 1, { uid: 'hu1' });
      await store.models.upsert('AuthorizationCode', 'c1', { grantId: 'g' }, 1, {});
      await store.models.consume('AuthorizationCode', 'c1', 1_700_000_000);
      await store.models.upsert('Session', 's2', { uid: 'u2', v: 1 }, 1, { uid: 'hu2' });
      await store.models.upsert('Grant', 'forever', { a: 1 }, undefined, {});

      await pass(600);
      expect(await store.models.findByUid('Session', 'hu1')).toEqual({ uid: 'u1' });
      await store.models.upsert('Session', 's2', { uid: 'u2', v: 2 }, 1, { uid: 'hu2' });

      if (manual) {
        await pass(399);
        expect(await store.models.find('Session', 's1')).toEqual({ uid: 'u1' });
        expect(await store.models.findByUid('Session', 'hu1')).toEqual({ uid: 'u1' });
        expect(await store.models.find('AuthorizationCode', 'c1')).toEqual({ grantId: 'g', consumed: 1_700_000_000 });
        await pass(1);
      } else {
        await pass(600);
      }
      expect(await store.models.find('Session', 's1')).toBeUndefined();
      expect(await store.models.findByUid('Session', 'hu1')).toBeUndefined();
      expect(await store.models.find('AuthorizationCode', 'c1')).toBeUndefined();
      expect(await store.models.findByUid('Session', 'hu2')).toEqual({ uid: 'u2', v: 2 });
      expect(await store.models.find('Grant', 'forever')).toEqual({ a: 1 });

      if (manual) {
        await pass(599);
        expect(await store.models.findByUid('Session', 'hu2')).toEqual({ uid: 'u2', v: 2 });
        await pass(1);
        expect(await store.models.findByUid('Session', 'hu2')).toBeUndefined();
        await pass(10 * 86_400_000);
        expect(await store.models.find('Grant', 'forever')).toEqual({ a: 1 });
      }
    });

    it('treats a TTL of zero as already expired', async () => {
      await store.models.upsert('Session', 'h1', { v: 1 }, 60, { uid: 'hu1' });
      await store.models.upsert('Session', 'h1', { v: 2 }, 0, { uid: 'hu1' });
      expect(await store.models.find('Session', 'h1')).toBeUndefined();
      expect(await store.models.findByUid('Session', 'hu1')).toBeUndefined();
    });

    it('consumes: a truthy consumed, the payload otherwise intact, the first consumption kept', async () => {
      const payload = { grantId: 'g', amr: [], claims: {}, scope: 'openid', exp: 1_999_999_999, big: 9_007_199_254_740_991, nested: { list: [[], [1, null]] } };
      await store.models.upsert('RefreshToken', 'r1', payload, 60, { grantId: 'hg' });
      await store.models.consume('RefreshToken', 'r1', 1_700_000_000);
      const consumed = await store.models.find('RefreshToken', 'r1');
      expect(consumed?.consumed).toBeTruthy();
      expect(consumed).toEqual({ ...payload, consumed: 1_700_000_000 });
      await store.models.consume('RefreshToken', 'r1', 1_700_000_099);
      expect((await store.models.find('RefreshToken', 'r1'))?.consumed).toBe(1_700_000_000);
    });

    it('consumes an empty payload, and a missing record is a no-op', async () => {
      await store.models.upsert('AuthorizationCode', 'c1', {}, 60, {});
      await store.models.consume('AuthorizationCode', 'c1', 1_700_000_000);
      expect(await store.models.find('AuthorizationCode', 'c1')).toEqual({ consumed: 1_700_000_000 });
      await store.models.consume('AuthorizationCode', 'missing', 1);
      expect(await store.models.find('AuthorizationCode', 'missing')).toBeUndefined();
    });

    it('destroys one record only', async () => {
      await store.models.upsert('AccessToken', 'a1', {}, 60, {});
      await store.models.upsert('AccessToken', 'a2', {}, 60, {});
      await store.models.destroy('AccessToken', 'a1');
      await store.models.destroy('AccessToken', 'never-there');
      expect(await store.models.find('AccessToken', 'a1')).toBeUndefined();
      expect(await store.models.find('AccessToken', 'a2')).toEqual({});
    });

    it('revokes every record of a grant across models, and nothing else', async () => {
      await store.models.upsert('AccessToken', 'a1', { grantId: 'g1' }, 60, { grantId: 'hg1' });
      await store.models.upsert('RefreshToken', 'r1', { grantId: 'g1' }, 3600, { grantId: 'hg1' });
      await store.models.upsert('Grant', 'g1', { jti: 'g1' }, undefined, { grantId: 'hg1' });
      await store.models.upsert('AccessToken', 'a2', { grantId: 'g2' }, 60, { grantId: 'hg2' });
      await store.models.revokeByGrantId('hg1');
      expect(await store.models.find('AccessToken', 'a1')).toBeUndefined();
      expect(await store.models.find('RefreshToken', 'r1')).toBeUndefined();
      expect(await store.models.find('Grant', 'g1')).toBeUndefined();
      expect(await store.models.find('AccessToken', 'a2')).toEqual({ grantId: 'g2' });
      await store.models.revokeByGrantId('hg1');
      await store.models.revokeByGrantId('unknown');
      // A grant id is reusable after a revocation: the next upsert starts a new set.
      await store.models.upsert('AccessToken', 'a3', { grantId: 'g1' }, 60, { grantId: 'hg1' });
      await store.models.revokeByGrantId('hg1');
      expect(await store.models.find('AccessToken', 'a3')).toBeUndefined();
    });
  });
}
