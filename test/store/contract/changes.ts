import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChangeListener, DirectoryChange, Store } from '../../../src/store/types.ts';
import { until } from '../../support/wait.ts';
import { client, org, user } from './fixtures.ts';
import type { ContractSubject, MakeSubject } from './subject.ts';

/** What a subscriber heard, in order. */
function recorder() {
  const heard: Array<DirectoryChange | { reset: boolean }> = [];
  const listener: ChangeListener = { changed: (change) => heard.push(change), reset: (live) => heard.push({ reset: live }) };
  return { heard, listener };
}

/**
 * The directory's change feed: every directory write is heard by every subscriber (this
 * store's own included; Redis: pub/sub, so it arrives a moment later — polled, bounded).
 * Memory and Redis run this same suite; the Redis feed's drop is in test/store/redis.test.ts.
 */
export function describeChangesContract(name: string, make: MakeSubject): void {
  describe(`Changes contract: ${name}`, () => {
    let s: ContractSubject;
    let store: Store;
    beforeEach(async () => {
      s = await make();
      store = s.store;
    });
    afterEach(async () => {
      await s.cleanup();
    });

    it('subscribing says the feed is live before anything else; each directory write is heard, after it', async () => {
      const { heard, listener } = recorder();
      const subscription = await store.changes.subscribe(listener);
      expect(heard).toEqual([{ reset: true }]);
      await store.directory.putOrg(org('acme'));
      await store.directory.putUser(user());
      await store.directory.deleteUser('usr_1');
      await store.directory.createClient(client({ client_id: 'app1' }));
      await store.directory.putClient(client({ client_id: 'app1', backchannel_logout_uri: 'https://renamed.example/bc' }));
      await store.directory.deleteClient('app1');
      const expected = [
        { kind: 'org', id: 'acme' },
        { kind: 'user', id: 'usr_1' },
        { kind: 'user', id: 'usr_1' },
        { kind: 'client', id: 'app1' },
        { kind: 'client', id: 'app1' },
        { kind: 'client', id: 'app1' },
      ];
      await until('every change heard', async () => heard.length >= 1 + expected.length);
      // Each change is heard; their order is not promised (on a cluster two publishes may reach
      // the subscribed node by different nodes), and a drop needs none.
      const byName = (list: readonly object[]) => list.map((h) => JSON.stringify(h)).sort();
      expect(heard[0]).toEqual({ reset: true });
      expect(byName(heard.slice(1))).toEqual(byName(expected));
      await subscription.close();
    });

    it('a write that fails is published all the same (it may have been applied); closing stops hearing', async () => {
      const { heard, listener } = recorder();
      const subscription = await store.changes.subscribe(listener);
      await store.directory.createClient(client({ client_id: 'app1' }));
      await expect(store.directory.createClient(client({ client_id: 'app1' }))).rejects.toThrow();
      await until('both heard', async () => heard.length >= 3);
      expect(heard.slice(1)).toEqual([{ kind: 'client', id: 'app1' }, { kind: 'client', id: 'app1' }]);
      await subscription.close();
      const { heard: other, listener: second } = recorder();
      const still = await store.changes.subscribe(second);
      await store.changes.publish({ kind: 'org', id: 'acme' });
      await until('the open subscription hears it', async () => other.length >= 2);
      expect(heard).toHaveLength(3);
      await still.close();
    });
  });
}
