import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock.ts';
import type { ClientRecord, User } from '../../src/orgs/types.ts';
import { ConflictError, type Store } from '../../src/store/types.ts';

export interface ContractSubject {
  store: Store;
  /** Present for stores whose time tests control; absent for Redis (server time). */
  clock?: ManualClock;
  /** Lets real time pass (Redis TTLs) or moves the manual clock. */
  advance(ms: number): Promise<void>;
  cleanup(): Promise<void>;
}

const user = (over: Partial<User> = {}): User => ({
  id: 'usr_1',
  org: 'acme',
  username: 'alice',
  passwordHash: '$argon2id$fake',
  roles: ['staff'],
  disabled: false,
  createdAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

const client = (over: Partial<ClientRecord> = {}): ClientRecord => ({
  client_id: 'wiki',
  org: 'acme',
  client_secret: 'secret-0123456789abcdef',
  redirect_uris: ['https://wiki.example/cb'],
  post_logout_redirect_uris: [],
  backchannel_logout_session_required: true,
  adminApi: false,
  firstParty: true,
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['authorization_code', 'refresh_token'],
  id_token_signed_response_alg: 'RS256',
  createdAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

/**
 * The behaviour every Store implementation owes Curfew. The memory and Redis test files both
 * run this one suite, so the two can never drift apart.
 */
export function describeStoreContract(name: string, make: () => Promise<ContractSubject>): void {
  describe(`Store contract: ${name}`, () => {
    let s: ContractSubject;
    let store: Store;
    beforeEach(async () => {
      s = await make();
      store = s.store;
    });
    afterEach(async () => {
      await s.cleanup();
    });

    describe('models', () => {
      it('finds what was upserted, a copy each time', async () => {
        await store.models.upsert('Session', 'h1', { jti: 'h1', uid: 'u1', n: 1 }, 60, { uid: 'hu1' });
        const found = await store.models.find('Session', 'h1');
        expect(found).toEqual({ jti: 'h1', uid: 'u1', n: 1 });
        found!.n = 2;
        expect((await store.models.find('Session', 'h1'))!.n).toBe(1);
        expect(await store.models.find('AccessToken', 'h1')).toBeUndefined();
      });

      it('finds by uid and by user code', async () => {
        await store.models.upsert('Session', 'h1', { uid: 'u1' }, 60, { uid: 'hu1' });
        await store.models.upsert('DeviceCode', 'd1', { userCode: 'UC' }, 60, { userCode: 'huc' });
        expect(await store.models.findByUid('Session', 'hu1')).toEqual({ uid: 'u1' });
        expect(await store.models.findByUserCode('DeviceCode', 'huc')).toEqual({ userCode: 'UC' });
        expect(await store.models.findByUid('Session', 'nope')).toBeUndefined();
      });

      it('expires a record and its indexes after its TTL', async () => {
        await store.models.upsert('Session', 'h1', { uid: 'u1' }, 1, { uid: 'hu1' });
        await s.advance(s.clock ? 999 : 500);
        expect(await store.models.find('Session', 'h1')).toBeDefined();
        await s.advance(s.clock ? 1 : 700);
        expect(await store.models.find('Session', 'h1')).toBeUndefined();
        expect(await store.models.findByUid('Session', 'hu1')).toBeUndefined();
      });

      it('slides: an upsert renews the record and its uid index', async () => {
        await store.models.upsert('Session', 'h1', { uid: 'u1', v: 1 }, 1, { uid: 'hu1' });
        await s.advance(s.clock ? 800 : 600);
        await store.models.upsert('Session', 'h1', { uid: 'u1', v: 2 }, 1, { uid: 'hu1' });
        await s.advance(s.clock ? 800 : 600);
        expect(await store.models.findByUid('Session', 'hu1')).toEqual({ uid: 'u1', v: 2 });
      });

      it('keeps records without a TTL', async () => {
        await store.models.upsert('Grant', 'g1', { a: 1 }, undefined, {});
        await s.advance(s.clock ? 10 * 86_400_000 : 10);
        expect(await store.models.find('Grant', 'g1')).toEqual({ a: 1 });
      });

      it('consumes: marks the record, keeps it findable and keeps its expiry', async () => {
        await store.models.upsert('AuthorizationCode', 'c1', { grantId: 'g' }, 1, { grantId: 'hg' });
        await store.models.consume('AuthorizationCode', 'c1', 1_700_000_000);
        expect(await store.models.find('AuthorizationCode', 'c1')).toEqual({ grantId: 'g', consumed: 1_700_000_000 });
        await s.advance(s.clock ? 1000 : 1200);
        expect(await store.models.find('AuthorizationCode', 'c1')).toBeUndefined();
        await store.models.consume('AuthorizationCode', 'missing', 1);
        expect(await store.models.find('AuthorizationCode', 'missing')).toBeUndefined();
      });

      it('destroys one record', async () => {
        await store.models.upsert('AccessToken', 'a1', {}, 60, {});
        await store.models.destroy('AccessToken', 'a1');
        expect(await store.models.find('AccessToken', 'a1')).toBeUndefined();
      });

      it('revokes every record of a grant across models, and nothing else', async () => {
        await store.models.upsert('AccessToken', 'a1', { grantId: 'g1' }, 60, { grantId: 'hg1' });
        await store.models.upsert('RefreshToken', 'r1', { grantId: 'g1' }, 3600, { grantId: 'hg1' });
        await store.models.upsert('AccessToken', 'a2', { grantId: 'g2' }, 60, { grantId: 'hg2' });
        await store.models.revokeByGrantId('hg1');
        expect(await store.models.find('AccessToken', 'a1')).toBeUndefined();
        expect(await store.models.find('RefreshToken', 'r1')).toBeUndefined();
        expect(await store.models.find('AccessToken', 'a2')).toBeDefined();
      });
    });

    describe('directory', () => {
      it('stores orgs and lists them', async () => {
        const policy = { idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 3600, warningSeconds: 60, mfa: 'off' as const, refreshIsActivity: false, allowEnrollmentAtReentry: false, rules: [], ceilings: { idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 86400 } };
        await store.directory.putOrg({ id: 'b', name: 'B', policy });
        await store.directory.putOrg({ id: 'a', name: 'A', policy });
        expect((await store.directory.listOrgs()).map((o) => o.id)).toEqual(['a', 'b']);
        expect((await store.directory.getOrg('a'))?.name).toBe('A');
        expect(await store.directory.getOrg('zzz')).toBeUndefined();
      });

      it('stores users, finds them by id and by username within their org', async () => {
        await store.directory.putUser(user());
        await store.directory.putUser(user({ id: 'usr_2', username: 'aaron' }));
        await store.directory.putUser(user({ id: 'usr_3', org: 'globex', username: 'alice' }));
        expect((await store.directory.getUser('usr_1'))?.username).toBe('alice');
        expect((await store.directory.findUserByName('acme', 'alice'))?.id).toBe('usr_1');
        expect((await store.directory.findUserByName('globex', 'alice'))?.id).toBe('usr_3');
        expect(await store.directory.findUserByName('acme', 'carol')).toBeUndefined();
        expect((await store.directory.listUsers('acme')).map((u) => u.username)).toEqual(['aaron', 'alice']);
      });

      it('refuses a username another user of the org holds', async () => {
        await store.directory.putUser(user());
        await expect(store.directory.putUser(user({ id: 'usr_9' }))).rejects.toBeInstanceOf(ConflictError);
        expect((await store.directory.findUserByName('acme', 'alice'))?.id).toBe('usr_1');
      });

      it('renames: the old username is free afterwards', async () => {
        await store.directory.putUser(user());
        await store.directory.putUser(user({ username: 'alicia' }));
        expect(await store.directory.findUserByName('acme', 'alice')).toBeUndefined();
        expect((await store.directory.findUserByName('acme', 'alicia'))?.id).toBe('usr_1');
        await store.directory.putUser(user({ id: 'usr_2', username: 'alice' }));
        expect((await store.directory.findUserByName('acme', 'alice'))?.id).toBe('usr_2');
      });

      it('never moves a user to another org', async () => {
        await store.directory.putUser(user());
        await expect(store.directory.putUser(user({ org: 'globex' }))).rejects.toThrow(/never changes org/);
      });

      it('deletes users with their indexes', async () => {
        await store.directory.putUser(user());
        await store.directory.deleteUser('usr_1');
        expect(await store.directory.getUser('usr_1')).toBeUndefined();
        expect(await store.directory.findUserByName('acme', 'alice')).toBeUndefined();
        expect(await store.directory.listUsers('acme')).toEqual([]);
        await store.directory.deleteUser('usr_1');
      });

      it('stores clients per org and refuses another org\'s client_id', async () => {
        await store.directory.putClient(client());
        await store.directory.putClient(client({ client_id: 'app' }));
        await store.directory.putClient(client({ client_id: 'gx', org: 'globex' }));
        expect((await store.directory.listClients('acme')).map((c) => c.client_id)).toEqual(['app', 'wiki']);
        await expect(store.directory.putClient(client({ org: 'globex' }))).rejects.toBeInstanceOf(ConflictError);
        await store.directory.putClient(client({ redirect_uris: ['https://wiki.example/new'] }));
        expect((await store.directory.getClient('wiki'))?.redirect_uris).toEqual(['https://wiki.example/new']);
        await store.directory.deleteClient('wiki');
        expect(await store.directory.getClient('wiki')).toBeUndefined();
        expect((await store.directory.listClients('acme')).map((c) => c.client_id)).toEqual(['app']);
      });
    });

    describe('secrets', () => {
      it('creates a value once; concurrent first calls agree', async () => {
        let n = 0;
        const values = await Promise.all(Array.from({ length: 10 }, () => store.secrets.getOrCreate('k', () => `v${n++}`)));
        expect(new Set(values).size).toBe(1);
        expect(await store.secrets.getOrCreate('k', () => 'other')).toBe(values[0]);
      });
    });

    describe('audit', () => {
      it('appends events with ordered ids and the store\'s time', async () => {
        const before = await store.now();
        const a = await store.audit.append({ type: 'login.failed', org: 'acme', user: 'u1' });
        const b = await store.audit.append({ type: 'login.succeeded', org: 'acme', user: 'u1' });
        expect(Date.parse(a.at)).toBeGreaterThanOrEqual(before - 1);
        const [am, as] = a.id.split('-').map(Number) as [number, number];
        const [bm, bs] = b.id.split('-').map(Number) as [number, number];
        expect(bm > am || (bm === am && bs > as)).toBe(true);
      });

      it('pages newest first with a cursor: no duplicates, no gaps', async () => {
        for (let i = 0; i < 25; i++) await store.audit.append({ type: 'login.failed', org: 'acme', data: { i } });
        await store.audit.append({ type: 'login.failed', org: 'globex', data: { i: 99 } });
        const seen: number[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.audit.query({ org: 'acme', limit: 10, ...(cursor ? { cursor } : {}) });
          seen.push(...page.items.map((e) => e.data!.i as number));
          cursor = page.nextCursor;
          pages++;
        } while (cursor);
        expect(pages).toBe(3);
        expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => 24 - i));
      });

      it('filters by type, user, session and since', async () => {
        await store.audit.append({ type: 'login.failed', org: 'acme', user: 'u1' });
        await store.audit.append({ type: 'session.started', org: 'acme', user: 'u1', session: 's1' });
        await store.audit.append({ type: 'session.started', org: 'acme', user: 'u2', session: 's2' });
        const q = (extra: object) => store.audit.query({ org: 'acme', limit: 10, ...extra }).then((p) => p.items.length);
        expect(await q({ type: 'session.started' })).toBe(2);
        expect(await q({ user: 'u1' })).toBe(2);
        expect(await q({ session: 's2' })).toBe(1);
        expect(await q({ since: new Date((await store.now()) + 60_000).toISOString() })).toBe(0);
        expect(await q({ since: new Date((await store.now()) - 60_000).toISOString() })).toBe(3);
      });

      it('keeps orgs apart', async () => {
        await store.audit.append({ type: 'login.failed', org: 'acme' });
        expect((await store.audit.query({ org: 'globex', limit: 10 })).items).toEqual([]);
      });
    });

    describe('rate limiter', () => {
      it('blocks a key after its points are spent; check does not consume; reset clears', async () => {
        const limiter = store.rateLimiter({ name: `t${Math.random()}`, points: 3, durationSeconds: 60, blockSeconds: 120 });
        expect((await limiter.check('k')).blocked).toBe(false);
        expect((await limiter.fail('k')).blocked).toBe(false);
        expect((await limiter.fail('k')).blocked).toBe(false);
        for (let i = 0; i < 5; i++) expect((await limiter.check('k')).blocked).toBe(false);
        const third = await limiter.fail('k');
        expect(third.blocked).toBe(true);
        expect(third.retryAfterSeconds).toBeGreaterThan(100);
        expect((await limiter.check('k')).blocked).toBe(true);
        expect((await limiter.check('other')).blocked).toBe(false);
        await limiter.reset('k');
        expect((await limiter.check('k')).blocked).toBe(false);
      });
    });

    it('answers ping and tells the shared time', async () => {
      await store.ping();
      const now = await store.now();
      if (s.clock) expect(now).toBe(s.clock.now());
      else expect(Math.abs(now - Date.now())).toBeLessThan(5_000);
    });
  });
}
