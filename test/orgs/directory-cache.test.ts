import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDirectoryCache, type DirectoryCache } from '../../src/orgs/directory-cache.ts';
import type { ChangeFeed, ChangeListener, DirectoryStore } from '../../src/orgs/store.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import { client, org } from '../store/contract/fixtures.ts';

/** A feed the test drives by hand: it delivers what the test says, when it says. */
function manualFeed() {
  let listener: ChangeListener | undefined;
  const feed: ChangeFeed = {
    async publish() {},
    async subscribe(l) {
      listener = l;
      l.reset(true);
      return { close: async () => void (listener = undefined) };
    },
  };
  return { feed, hear: () => listener! };
}

/** The store's directory, counting the reads that reach it. */
function counting(directory: DirectoryStore) {
  const reads = { client: 0, org: 0 };
  let gate: Promise<void> | undefined;
  const counted: DirectoryStore = {
    ...directory,
    async getClient(id) {
      reads.client++;
      const value = await directory.getClient(id);
      await gate;
      return value;
    },
    async getOrg(id) {
      reads.org++;
      return directory.getOrg(id);
    },
  };
  return { counted, reads, hold: (until: Promise<void>) => (gate = until) };
}

describe('directory cache', () => {
  let store: ReturnType<typeof createMemoryStore>;
  let cache: DirectoryCache;
  let feed: ReturnType<typeof manualFeed>;
  let backing: ReturnType<typeof counting>;
  beforeEach(async () => {
    store = createMemoryStore();
    await store.directory.putOrg(org('acme'));
    await store.directory.createClient(client({ client_id: 'app1' }));
    feed = manualFeed();
    backing = counting(store.directory);
    cache = createDirectoryCache(backing.counted, feed.feed);
    await cache.start();
  });
  afterEach(async () => {
    await cache.close();
    await store.close();
  });

  it('answers clients and orgs from memory once read while the feed is live', async () => {
    expect((await cache.directory.getClient('app1'))?.client_id).toBe('app1');
    expect((await cache.directory.getClient('app1'))?.client_id).toBe('app1');
    expect(await cache.directory.getOrg('acme')).toEqual(org('acme'));
    expect(await cache.directory.getOrg('acme')).toEqual(org('acme'));
    expect(backing.reads).toEqual({ client: 1, org: 1 });
    expect(cache.state()).toEqual({ live: true, clients: 1, orgs: 1 });
  });

  it('a change heard drops that record: the next read is the store\'s', async () => {
    await cache.directory.getClient('app1');
    // Another instance changed it: the store has the new record, this cache the old one until told.
    await store.directory.putClient(client({ client_id: 'app1', backchannel_logout_uri: 'https://renamed.example/bc' }));
    expect((await cache.directory.getClient('app1'))?.backchannel_logout_uri).not.toBe('https://renamed.example/bc');
    feed.hear().changed({ kind: 'client', id: 'app1' });
    expect((await cache.directory.getClient('app1'))?.backchannel_logout_uri).toBe('https://renamed.example/bc');
    expect(backing.reads.client).toBe(2);
  });

  it('invariant: every reset empties it, and while the feed is down nothing is answered from memory or kept', async () => {
    await cache.directory.getClient('app1');
    await cache.directory.getOrg('acme');
    feed.hear().reset(false);
    expect(cache.state()).toEqual({ live: false, clients: 0, orgs: 0 });
    // A change made now would go unheard: every read goes to the store, and none is kept.
    await store.directory.putOrg(org('acme', 'Changed while down'));
    expect((await cache.directory.getOrg('acme'))?.name).toBe('Changed while down');
    await cache.directory.getOrg('acme');
    expect(backing.reads.org).toBe(3);
    expect(cache.state().orgs).toBe(0);
    feed.hear().reset(true);
    await cache.directory.getOrg('acme');
    await cache.directory.getOrg('acme');
    expect(backing.reads.org).toBe(4);
    // Re-subscribing empties it too: changes between the drop and the subscription went unheard.
    feed.hear().reset(true);
    expect(cache.state()).toEqual({ live: true, clients: 0, orgs: 0 });
  });

  it('a read in flight when a change (or a reset) is heard is answered but not kept: it may predate the change', async () => {
    let release!: () => void;
    backing.hold(new Promise<void>((r) => (release = r)));
    const reading = cache.directory.getClient('app1');
    feed.hear().changed({ kind: 'client', id: 'other' });
    release();
    expect((await reading)?.client_id).toBe('app1');
    expect(cache.state().clients).toBe(0);
  });

  it("this instance's own write is seen by its next read at once, before any message comes back", async () => {
    await cache.directory.getClient('app1');
    await cache.directory.putClient(client({ client_id: 'app1', backchannel_logout_uri: 'https://mine.example/bc' }));
    expect((await cache.directory.getClient('app1'))?.backchannel_logout_uri).toBe('https://mine.example/bc');
    await cache.directory.getOrg('acme');
    await cache.directory.putOrg(org('acme', 'Mine'));
    expect((await cache.directory.getOrg('acme'))?.name).toBe('Mine');
    await cache.directory.updateClient('app1', (c) => ({ ...c, backchannel_logout_uri: 'https://updated.example/bc' }));
    expect((await cache.directory.getClient('app1'))?.backchannel_logout_uri).toBe('https://updated.example/bc');
    await cache.directory.deleteClient('app1');
    expect(await cache.directory.getClient('app1')).toBeUndefined();
  });

  it('keeps no missing record, and hands out copies no caller can change', async () => {
    expect(await cache.directory.getClient('nope')).toBeUndefined();
    expect(await cache.directory.getClient('nope')).toBeUndefined();
    expect(backing.reads.client).toBe(2);
    const first = (await cache.directory.getClient('app1'))!;
    first.redirect_uris.push('https://evil.example/cb');
    expect((await cache.directory.getClient('app1'))!.redirect_uris).not.toContain('https://evil.example/cb');
  });

  it('dropAll forgets every record (a wiped store publishes no change)', async () => {
    await cache.directory.getClient('app1');
    await cache.directory.getOrg('acme');
    cache.dropAll();
    expect(cache.state()).toEqual({ live: true, clients: 0, orgs: 0 });
    await cache.directory.getClient('app1');
    expect(backing.reads.client).toBe(2);
  });

  it('after close nothing is answered from memory', async () => {
    await cache.directory.getClient('app1');
    await cache.close();
    await cache.directory.getClient('app1');
    expect(backing.reads.client).toBe(2);
  });
});
