import { afterEach, describe, expect, it } from 'vitest';
import { deleteClient } from '../../../src/admin/operations/delete-client.ts';
import { client, operationsFixture, type OperationsFixture } from '../../support/operations.ts';

describe('deleting a client for good (issue 10 item 8)', () => {
  let t: OperationsFixture;
  afterEach(async () => {
    await t.close();
  });
  const deps = () => ({ directory: t.store.directory, sessions: t.sessions });
  const liveClients = async (uid: string) => Object.values((await t.sessions.get(uid))?.rps ?? {}).filter((rp) => rp.endedAt === undefined).map((rp) => rp.client).sort();

  it('removes the client and ends each of its RP sessions (client_deleted); other clients\' RP sessions and the SSO session live on', async () => {
    t = await operationsFixture();
    await t.store.directory.createClient(client('acme-wiki', 'acme'));
    await t.signIn('uid-1', t.bob, ['acme-app', 'acme-wiki']);
    await t.signIn('uid-2', t.alice, ['acme-app']);
    await t.signIn('uid-3', t.alice, ['acme-wiki']);
    const result = await deleteClient(deps(), { client_id: 'acme-app', org: 'acme' });
    expect(result?.deleted).toMatchObject({ client_id: 'acme-app', org: 'acme', backchannel_logout_uri: 'https://app.example/bcl' });
    expect(result?.endedRpSessions).toBe(2);
    expect(await t.store.directory.getClient('acme-app')).toBeUndefined();
    expect(await liveClients('uid-1')).toEqual(['acme-wiki']);
    expect(await liveClients('uid-2')).toEqual([]);
    expect(await liveClients('uid-3')).toEqual(['acme-wiki']);
    const ended = (await t.audited('session.ended')).map((e) => e.data);
    expect(ended).toHaveLength(2);
    for (const data of ended) expect(data).toMatchObject({ reason: 'client_deleted', scope: 'rp' });
  });

  it('leaves a tombstone: the id can never be registered again, by any org', async () => {
    t = await operationsFixture();
    await deleteClient(deps(), { client_id: 'acme-app', org: 'acme' });
    await expect(t.store.directory.createClient(client('acme-app', 'acme'))).rejects.toThrow();
    await expect(t.store.directory.createClient(client('acme-app', 'globex'))).rejects.toThrow();
  });

  it('answers undefined for a client that is not there, or already deleted', async () => {
    t = await operationsFixture();
    expect(await deleteClient(deps(), { client_id: 'nope', org: 'acme' })).toBeUndefined();
    await t.signIn('uid-1', t.bob, ['acme-app']);
    expect(await deleteClient(deps(), { client_id: 'acme-app', org: 'acme' })).toBeDefined();
    expect(await deleteClient(deps(), { client_id: 'acme-app', org: 'acme' })).toBeUndefined();
  });

  it('of 50 concurrent deletions one deletes and ends the RP sessions; each RP session ends once', async () => {
    t = await operationsFixture();
    await t.signIn('uid-1', t.bob, ['acme-app']);
    await t.signIn('uid-2', t.alice, ['acme-app']);
    const results = await Promise.all(Array.from({ length: 50 }, () => deleteClient(deps(), { client_id: 'acme-app', org: 'acme' })));
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    expect(results.reduce((n, r) => n + (r?.endedRpSessions ?? 0), 0)).toBe(2);
    expect(await t.audited('session.ended')).toHaveLength(2);
  });
});
