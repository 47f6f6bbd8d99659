import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, type Store } from '../../../src/store/types.ts';
import { client, org, user } from './fixtures.ts';
import type { ContractSubject, MakeSubject } from './subject.ts';

/** Orgs, users and clients: uniqueness, indexes, tombstones. Memory and Redis run this same suite. */
export function describeDirectoryContract(name: string, make: MakeSubject): void {
  describe(`Directory contract: ${name}`, () => {
    let s: ContractSubject;
    let store: Store;
    beforeEach(async () => {
      s = await make();
      store = s.store;
    });
    afterEach(async () => {
      await s.cleanup();
    });

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

    it('updates a user against the record as stored; a missing user is undefined; id, org and username stay', async () => {
      await store.directory.putUser(user({ roles: ['staff'] }));
      expect(await store.directory.updateUser('usr_1', (u) => ({ ...u, roles: [] }))).toEqual(user({ roles: [] }));
      expect(await store.directory.getUser('usr_1')).toEqual(user({ roles: [] }));
      expect(await store.directory.updateUser('usr_404', (u) => ({ ...u, disabled: true }))).toBeUndefined();
      await expect(store.directory.updateUser('usr_1', (u) => ({ ...u, username: 'mallory' }))).rejects.toThrow(/username/);
      expect((await store.directory.findUserByName('acme', 'alice'))?.id).toBe('usr_1');
    });

    it('60 concurrent updates of one user each land: none is overwritten by another read before it', async () => {
      await store.directory.putUser(user({ roles: [] }));
      await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          store.directory.updateUser('usr_1', (u) => (i === 0 ? { ...u, disabled: true } : { ...u, roles: [...u.roles, `role-${i}`] })),
        ),
      );
      const after = await store.directory.getUser('usr_1');
      expect(after?.disabled).toBe(true);
      expect(after?.roles).toHaveLength(59);
      expect(new Set(after?.roles).size).toBe(59);
    });

    it('updates a client against the record as stored; a deleted one stays deleted; client_id and org stay', async () => {
      await store.directory.putOrg(org('acme'));
      await store.directory.createClient(client());
      expect(await store.directory.updateClient('wiki', (c) => ({ ...c, redirect_uris: [] }))).toEqual(client({ redirect_uris: [] }));
      expect(await store.directory.getClient('wiki')).toEqual(client({ redirect_uris: [] }));
      await expect(store.directory.updateClient('wiki', (c) => ({ ...c, org: 'globex' }))).rejects.toThrow(/org/);
      await store.directory.deleteClient('wiki');
      expect(await store.directory.updateClient('wiki', (c) => ({ ...c, firstParty: false }))).toBeUndefined();
      expect(await store.directory.getClient('wiki')).toBeUndefined();
    });

    it('60 concurrent client updates each land', async () => {
      await store.directory.createClient(client({ redirect_uris: [] }));
      await Promise.all(Array.from({ length: 60 }, (_, i) => store.directory.updateClient('wiki', (c) => ({ ...c, redirect_uris: [...c.redirect_uris, `https://wiki.example/${i}`] }))));
      expect(new Set((await store.directory.getClient('wiki'))?.redirect_uris).size).toBe(60);
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
      // One at a time: a write started before the previous one's answer was checked could reject
      // with nothing listening yet (an unhandled rejection).
      for (const write of [
        () => store.directory.createClient(client({ org: 'globex' })),
        () => store.directory.createClient(client()),
        () => store.directory.putClient(client({ org: 'globex' })),
        // A PATCH that read the client before the delete must not resurrect it.
        () => store.directory.putClient(client()),
      ]) {
        const attempt = write();
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
}
