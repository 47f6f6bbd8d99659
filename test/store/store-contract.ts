import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/types.ts';
import type { ClientRecord, Org, User } from '../../src/orgs/types.ts';
import { ConflictError, type Store } from '../../src/store/types.ts';
import type { SharedClock } from '../support/shared-clock.ts';

export interface ContractSubject {
  store: Store;
  /** The store's shared clock, pinned by the test (memory: a ManualClock; Redis: the pin key). */
  clock: SharedClock;
  /**
   * Redis expires model records by its own clock (relative `PX` TTLs), not by the pinnable
   * shared clock; the model-expiry test then waits in real time instead of moving the clock.
   */
  modelTtlsInRealTime?: boolean;
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
  client_secret_hash: 'hmac-sha256:c2VjcmV0LTAxMjM0NTY3ODlhYmNkZWY',
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

const org = (id: string, name = id.toUpperCase()): Org => ({
  id,
  name,
  policy: {
    idleTimeoutSeconds: 900,
    absoluteTimeoutSeconds: 3600,
    warningSeconds: 60,
    mfa: 'off',
    refreshIsActivity: false,
    allowEnrollmentAtReentry: false,
    rules: [],
    ceilings: { idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 86400 },
  },
});

const seqOf = (record: AuditRecord) => record.data!.i as number;

/**
 * The behaviour every Store implementation owes Curfew. The memory and Redis test files both
 * run this one suite, so the two can never drift apart. Time-dependent checks move the shared
 * clock; Redis judges model TTLs by its own clock, so exactly one test lets real time pass
 * there (about 1.2 s) and every other test is instant.
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

    describe('directory', () => {
      it('stores orgs, replaces them and lists them by id', async () => {
        await store.directory.putOrg(org('b'));
        await store.directory.putOrg(org('a'));
        await store.directory.putOrg(org('a', 'Renamed'));
        expect((await store.directory.listOrgs()).map((o) => o.id)).toEqual(['a', 'b']);
        expect(await store.directory.getOrg('a')).toEqual(org('a', 'Renamed'));
        expect(await store.directory.getOrg('zzz')).toBeUndefined();
      });

      it('stores users, finds them by id and by username within their org, lists by username', async () => {
        await store.directory.putUser(user());
        await store.directory.putUser(user({ id: 'usr_2', username: 'aaron' }));
        await store.directory.putUser(user({ id: 'usr_3', org: 'globex', username: 'alice' }));
        expect(await store.directory.getUser('usr_1')).toEqual(user());
        expect((await store.directory.findUserByName('acme', 'alice'))?.id).toBe('usr_1');
        expect((await store.directory.findUserByName('globex', 'alice'))?.id).toBe('usr_3');
        expect(await store.directory.findUserByName('acme', 'carol')).toBeUndefined();
        expect(await store.directory.getUser('nobody')).toBeUndefined();
        expect((await store.directory.listUsers('acme')).map((u) => u.username)).toEqual(['aaron', 'alice']);
        expect(await store.directory.listUsers('initech')).toEqual([]);
      });

      it('replaces a user in place', async () => {
        await store.directory.putUser(user());
        await store.directory.putUser(user({ disabled: true, roles: [] }));
        expect(await store.directory.getUser('usr_1')).toEqual(user({ disabled: true, roles: [] }));
        expect(await store.directory.listUsers('acme')).toHaveLength(1);
      });

      it('refuses a username another user of the org holds', async () => {
        await store.directory.putUser(user());
        const taken = store.directory.putUser(user({ id: 'usr_9' }));
        await expect(taken).rejects.toBeInstanceOf(ConflictError);
        await expect(taken).rejects.toMatchObject({ field: 'username' });
        expect((await store.directory.findUserByName('acme', 'alice'))?.id).toBe('usr_1');
        expect(await store.directory.getUser('usr_9')).toBeUndefined();
      });

      it('renames: the old username is free afterwards; renaming onto a taken name changes nothing', async () => {
        await store.directory.putUser(user());
        await store.directory.putUser(user({ username: 'alicia' }));
        expect(await store.directory.findUserByName('acme', 'alice')).toBeUndefined();
        expect((await store.directory.findUserByName('acme', 'alicia'))?.id).toBe('usr_1');
        await store.directory.putUser(user({ id: 'usr_2', username: 'alice' }));
        expect((await store.directory.findUserByName('acme', 'alice'))?.id).toBe('usr_2');
        await expect(store.directory.putUser(user({ username: 'alice' }))).rejects.toBeInstanceOf(ConflictError);
        expect((await store.directory.getUser('usr_1'))?.username).toBe('alicia');
        expect((await store.directory.findUserByName('acme', 'alicia'))?.id).toBe('usr_1');
      });

      it('never moves a user to another org', async () => {
        await store.directory.putUser(user());
        const moved = store.directory.putUser(user({ org: 'globex' }));
        await expect(moved).rejects.toThrow(/never changes org/);
        await expect(moved).rejects.not.toBeInstanceOf(ConflictError);
        expect((await store.directory.getUser('usr_1'))?.org).toBe('acme');
        expect(await store.directory.findUserByName('globex', 'alice')).toBeUndefined();
      });

      it('deletes users with their indexes; the name is free again', async () => {
        await store.directory.putUser(user());
        await store.directory.deleteUser('usr_1');
        expect(await store.directory.getUser('usr_1')).toBeUndefined();
        expect(await store.directory.findUserByName('acme', 'alice')).toBeUndefined();
        expect(await store.directory.listUsers('acme')).toEqual([]);
        await store.directory.deleteUser('usr_1');
        await store.directory.putUser(user({ id: 'usr_2' }));
        expect((await store.directory.findUserByName('acme', 'alice'))?.id).toBe('usr_2');
        // Deleted, the id may come back in another org.
        await store.directory.putUser(user({ org: 'globex' }));
        expect((await store.directory.getUser('usr_1'))?.org).toBe('globex');
      });

      it("stores clients per org, lists by client_id and refuses another org's client_id", async () => {
        await store.directory.putClient(client());
        await store.directory.putClient(client({ client_id: 'app' }));
        await store.directory.putClient(client({ client_id: 'gx', org: 'globex' }));
        expect((await store.directory.listClients('acme')).map((c) => c.client_id)).toEqual(['app', 'wiki']);
        expect((await store.directory.listClients('globex')).map((c) => c.client_id)).toEqual(['gx']);
        const taken = store.directory.putClient(client({ org: 'globex' }));
        await expect(taken).rejects.toBeInstanceOf(ConflictError);
        await expect(taken).rejects.toMatchObject({ field: 'client_id' });
        expect((await store.directory.getClient('wiki'))?.org).toBe('acme');
        await store.directory.putClient(client({ redirect_uris: ['https://wiki.example/new'] }));
        expect(await store.directory.getClient('wiki')).toEqual(client({ redirect_uris: ['https://wiki.example/new'] }));
        expect(await store.directory.getClient('nope')).toBeUndefined();
      });

      it('deletes a client with its index, returns it once, and leaves a tombstone naming its org and logout URI', async () => {
        await store.directory.putClient(client({ backchannel_logout_uri: 'https://wiki.example/bcl', id_token_signed_response_alg: 'ES256' }));
        await store.directory.putClient(client({ client_id: 'app' }));
        expect(await store.directory.getClientTombstone('wiki')).toBeUndefined();
        expect(await store.directory.deleteClient('wiki')).toEqual(client({ backchannel_logout_uri: 'https://wiki.example/bcl', id_token_signed_response_alg: 'ES256' }));
        expect(await store.directory.deleteClient('wiki')).toBeUndefined();
        expect(await store.directory.deleteClient('nope')).toBeUndefined();
        expect(await store.directory.getClient('wiki')).toBeUndefined();
        expect((await store.directory.listClients('acme')).map((c) => c.client_id)).toEqual(['app']);
        const tombstone = await store.directory.getClientTombstone('wiki');
        expect(tombstone).toEqual({ client_id: 'wiki', org: 'acme', backchannel_logout_uri: 'https://wiki.example/bcl', id_token_signed_response_alg: 'ES256', deletedAt: expect.any(String) });
        expect(Number.isNaN(Date.parse(tombstone!.deletedAt))).toBe(false);
        await store.directory.deleteClient('app');
        expect(await store.directory.getClientTombstone('app')).toEqual({ client_id: 'app', org: 'acme', id_token_signed_response_alg: 'RS256', deletedAt: expect.any(String) });
        expect(await store.directory.getClientTombstone('nope')).toBeUndefined();
      });

      it('never gives a deleted id out again: not to another org, not to its own, not by a replacing write', async () => {
        await store.directory.putClient(client());
        await store.directory.deleteClient('wiki');
        for (const attempt of [
          store.directory.createClient(client({ org: 'globex' })),
          store.directory.createClient(client()),
          store.directory.putClient(client({ org: 'globex' })),
          // A PATCH that read the client before the delete must not resurrect it.
          store.directory.putClient(client()),
        ]) {
          await expect(attempt).rejects.toBeInstanceOf(ConflictError);
          await expect(attempt).rejects.toMatchObject({ field: 'client_id' });
        }
        expect(await store.directory.getClient('wiki')).toBeUndefined();
        expect(await store.directory.listClients('globex')).toEqual([]);
      });

      it('creates only unused ids, answering the same for its own org, another org and a tombstone', async () => {
        await store.directory.createClient(client());
        await store.directory.createClient(client({ client_id: 'gone' }));
        await store.directory.deleteClient('gone');
        const messages: string[] = [];
        for (const attempt of [client(), client({ org: 'globex' }), client({ client_id: 'gone', org: 'globex' })]) {
          const error = await store.directory.createClient(attempt).then(() => undefined, (e: unknown) => e);
          expect(error).toBeInstanceOf(ConflictError);
          messages.push((error as ConflictError).message);
        }
        expect(new Set(messages).size).toBe(1);
        expect(await store.directory.getClient('wiki')).toEqual(client());
      });

      it('lets exactly one of 60 concurrent creations of one id win, across orgs', async () => {
        const orgs = Array.from({ length: 60 }, (_, i) => `org${i}`);
        const results = await Promise.allSettled(orgs.map((o) => store.directory.createClient(client({ client_id: 'contested', org: o }))));
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [orgs[i]] : []));
        expect(won).toHaveLength(1);
        expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof ConflictError)).toBe(true);
        expect((await store.directory.getClient('contested'))?.org).toBe(won[0]);
        const listed = (await Promise.all(orgs.map((o) => store.directory.listClients(o)))).flat();
        expect(listed.map((c) => c.org)).toEqual(won);
      });

      it('of concurrent deletes and re-creations of one id, leaves it deleted and tombstoned', async () => {
        await store.directory.putClient(client());
        const racing = await Promise.allSettled([
          ...Array.from({ length: 25 }, () => store.directory.deleteClient('wiki')),
          ...Array.from({ length: 25 }, (_, i) => store.directory.createClient(client({ org: `org${i}` }))),
        ]);
        expect(racing.slice(0, 25).filter((r) => r.status === 'fulfilled' && r.value !== undefined)).toHaveLength(1);
        expect(racing.slice(25).every((r) => r.status === 'rejected')).toBe(true);
        expect(await store.directory.getClient('wiki')).toBeUndefined();
        expect((await store.directory.getClientTombstone('wiki'))?.org).toBe('acme');
      });
    });

    describe('secrets', () => {
      it('creates a value once; concurrent first calls agree', async () => {
        let n = 0;
        const values = await Promise.all(Array.from({ length: 10 }, () => store.secrets.getOrCreate('k', () => `v${n++}`)));
        expect(new Set(values).size).toBe(1);
        expect(await store.secrets.getOrCreate('k', () => 'other')).toBe(values[0]);
        expect(await store.secrets.getOrCreate('other-name', () => 'x')).toBe('x');
      });
    });

    describe('audit', () => {
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

    describe('attempt limiter', () => {
      const limiterOf = (points: number) => store.rateLimiter({ name: `t${Math.random()}`, points, durationSeconds: 60, blockSeconds: 120 });

      it('grants `points` reservations, the last one marked; then refuses for the block; check reserves nothing', async () => {
        const limiter = limiterOf(3);
        expect(await limiter.check('k')).toEqual({ blocked: false, retryAfterSeconds: 0 });
        for (let i = 0; i < 5; i++) expect((await limiter.check('k')).blocked).toBe(false);
        expect(await limiter.reserve('k')).toEqual({ granted: true, last: false });
        expect(await limiter.reserve('k')).toEqual({ granted: true, last: false });
        expect(await limiter.reserve('k')).toEqual({ granted: true, last: true });
        const refused = await limiter.reserve('k');
        expect(refused).toEqual({ granted: false, retryAfterSeconds: 120 });
        const state = await limiter.check('k');
        expect(state).toEqual({ blocked: true, retryAfterSeconds: 120 });
        expect((await limiter.check('other')).blocked).toBe(false);
      });

      it('of 100 concurrent reservations grants exactly `points`, one of them the last', async () => {
        const limiter = limiterOf(5);
        const all = await Promise.all(Array.from({ length: 100 }, () => limiter.reserve('k')));
        const granted = all.filter((r) => r.granted);
        expect(granted).toHaveLength(5);
        expect(granted.filter((r) => r.granted && r.last)).toHaveLength(1);
      });

      it('a refund gives one attempt back and lifts a block; reset forgets the key', async () => {
        const limiter = limiterOf(2);
        await limiter.reserve('k');
        await limiter.reserve('k');
        expect((await limiter.check('k')).blocked).toBe(true);
        await limiter.refund('k');
        expect((await limiter.check('k')).blocked).toBe(false);
        expect(await limiter.reserve('k')).toEqual({ granted: true, last: true });
        expect((await limiter.reserve('k')).granted).toBe(false);
        await limiter.reset('k');
        expect(await limiter.check('k')).toEqual({ blocked: false, retryAfterSeconds: 0 });
        expect(await limiter.reserve('k')).toEqual({ granted: true, last: false });
        await limiter.refund('k');
        await limiter.refund('k');
        expect(await limiter.reserve('k')).toEqual({ granted: true, last: false });
      });

      it('judges the window and the block by the shared clock: alive 1 ms before the end, over at it', async () => {
        const limiter = limiterOf(2);
        await limiter.reserve('k');
        await s.clock.advance(60_000 - 1);
        expect(await limiter.reserve('k')).toEqual({ granted: true, last: true });
        await s.clock.advance(120_000 - 1);
        expect(await limiter.check('k')).toEqual({ blocked: true, retryAfterSeconds: 1 });
        expect((await limiter.reserve('k')).granted).toBe(false);
        await s.clock.advance(1);
        expect(await limiter.check('k')).toEqual({ blocked: false, retryAfterSeconds: 0 });
        expect(await limiter.reserve('k')).toEqual({ granted: true, last: false });
        await s.clock.advance(60_000);
        expect(await limiter.reserve('k')).toEqual({ granted: true, last: false });
      });

      it('keeps limiters of different names apart', async () => {
        const tag = Math.random();
        const strict = store.rateLimiter({ name: `a${tag}`, points: 1, durationSeconds: 60, blockSeconds: 60 });
        const loose = store.rateLimiter({ name: `b${tag}`, points: 5, durationSeconds: 60, blockSeconds: 60 });
        expect(await strict.reserve('k')).toEqual({ granted: true, last: true });
        expect((await strict.check('k')).blocked).toBe(true);
        expect((await loose.check('k')).blocked).toBe(false);
      });
    });

    describe('mfa enrollment', () => {
      const sealed = (ct: string) => ({ secret: { kid: 'k1', iv: 'iv', ct, tag: 'tag' }, enrolledAt: '2026-01-01T00:00:00.000Z' });

      it('enrolls only a user without an enrollment; the first one stays', async () => {
        expect(await store.mfa.enroll('u1', sealed('first'), ['h1', 'h2'])).toBe(true);
        expect(await store.mfa.enroll('u1', sealed('second'), ['h3'])).toBe(false);
        expect((await store.mfa.getEnrollment('u1'))?.secret.ct).toBe('first');
        expect(await store.mfa.recoveryCodesLeft('u1')).toBe(2);
        expect(await store.mfa.useRecoveryCode('u1', 'h3')).toBe(false);
      });

      it('of 50 concurrent enrollments exactly one wins, with its own recovery codes', async () => {
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.mfa.enroll('u1', sealed(`s${i}`), [`h${i}`])));
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect((await store.mfa.getEnrollment('u1'))?.secret.ct).toBe(`s${winner}`);
        expect(await store.mfa.recoveryCodesLeft('u1')).toBe(1);
        expect(await store.mfa.useRecoveryCode('u1', `h${winner}`)).toBe(true);
      });

      it('enrolls again after a reset (admin reset)', async () => {
        await store.mfa.enroll('u1', sealed('first'), ['h1']);
        await store.mfa.reset('u1');
        expect(await store.mfa.getEnrollment('u1')).toBeUndefined();
        expect(await store.mfa.enroll('u1', sealed('second'), [])).toBe(true);
        expect((await store.mfa.getEnrollment('u1'))?.secret.ct).toBe('second');
        expect(await store.mfa.recoveryCodesLeft('u1')).toBe(0);
      });
    });

    it('answers ping and tells the shared time', async () => {
      await store.ping();
      const now = await store.now();
      expect(Number.isInteger(now)).toBe(true);
      expect(now).toBe(await s.clock.now());
    });
  });
}
