import { describe, expect, it } from 'vitest';
import type { ChangeFeed, DirectoryChange, DirectoryStore } from '../../src/store/types.ts';
import { publishDirectoryChanges } from '../../src/store/publish-directory-changes.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import { client, org, user } from './contract/fixtures.ts';

/** A feed that records what was published, and the write it followed (by what the store held then). */
function recording(failing = false) {
  const published: DirectoryChange[] = [];
  const feed: ChangeFeed = {
    async publish(change) {
      published.push(change);
      if (failing) throw new Error('publish failed');
    },
    subscribe: async () => ({ close: async () => {} }),
  };
  return { feed, published };
}

describe('publishDirectoryChanges', () => {
  it('publishes each write after the store holds it; reads publish nothing', async () => {
    const store = createMemoryStore();
    const { feed, published } = recording();
    let heldWhenPublished: string | undefined;
    const directory: DirectoryStore = publishDirectoryChanges(store.directory, {
      ...feed,
      async publish(change) {
        heldWhenPublished = (await store.directory.getOrg(change.id))?.name;
        await feed.publish(change);
      },
    });
    await directory.putOrg(org('acme', 'New name'));
    expect(heldWhenPublished).toBe('New name');
    await directory.getOrg('acme');
    await directory.listOrgs();
    expect(published).toEqual([{ kind: 'org', id: 'acme' }]);
    await store.close();
  });

  it('names what changed: users by id (updated, deleted too), clients by client_id (created, replaced, updated, deleted)', async () => {
    const store = createMemoryStore();
    const { feed, published } = recording();
    const directory = publishDirectoryChanges(store.directory, feed);
    await directory.putUser(user());
    await directory.updateUser('usr_1', (u) => ({ ...u, disabled: true }));
    await directory.deleteUser('usr_1');
    await directory.createClient(client({ client_id: 'app1' }));
    await directory.putClient(client({ client_id: 'app1' }));
    await directory.updateClient('app1', (c) => ({ ...c, redirect_uris: [] }));
    expect(await directory.deleteClient('app1')).toBeDefined();
    expect(published.map((c) => `${c.kind}:${c.id}`)).toEqual(['user:usr_1', 'user:usr_1', 'user:usr_1', 'client:app1', 'client:app1', 'client:app1', 'client:app1']);
    await store.close();
  });

  it("a failed write is still published (it may have been applied) and throws the write's own error", async () => {
    const store = createMemoryStore();
    const { feed, published } = recording(true);
    const directory = publishDirectoryChanges(store.directory, feed);
    await store.directory.createClient(client({ client_id: 'app1' }));
    await expect(directory.createClient(client({ client_id: 'app1' }))).rejects.toThrow(/client_id/);
    expect(published).toEqual([{ kind: 'client', id: 'app1' }]);
    // A write that succeeded but could not be published fails: the caller retries, and publishes again.
    await expect(directory.putOrg(org('acme'))).rejects.toThrow('publish failed');
    await store.close();
  });
});
