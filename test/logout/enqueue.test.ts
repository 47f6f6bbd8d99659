import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { deliveryId, enqueueLogoutTokens } from '../../src/logout/enqueue.ts';
import type { ClientRecord } from '../../src/orgs/types.ts';
import type { SessionEnded } from '../../src/sessions/service.ts';
import type { RpSession, SsoSession } from '../../src/sessions/types.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import type { Delivery } from '../../src/logout/types.ts';

const client = (id: string, uri?: string): ClientRecord => ({
  client_id: id, org: 'acme', redirect_uris: ['http://127.0.0.1:9/cb'], post_logout_redirect_uris: [],
  ...(uri ? { backchannel_logout_uri: uri } : {}), backchannel_logout_session_required: true, adminApi: false, firstParty: true,
  token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code'], id_token_signed_response_alg: 'RS256',
  createdAt: new Date().toISOString(),
});

async function setup() {
  const clock = new ManualClock(Date.now());
  const store = createMemoryStore({ clock });
  await store.directory.putClient(client('with-uri', 'http://127.0.0.1:8090/bcl'));
  await store.directory.putClient(client('no-uri'));
  const now = clock.now();
  const rp = (c: string, sid: string): RpSession => ({ client: c, sid, sidKey: `k-${sid}`, startedAt: now, lastActiveAt: now, idleSeconds: 60, absoluteSeconds: 600 });
  const session: SsoSession = { id: 'uid-1', org: 'acme', user: 'u1', signedInAt: now, lastActiveAt: now, idleSeconds: 60, absoluteSeconds: 600, warningSeconds: 10, refreshIsActivity: false, rps: {} };
  const ended: SessionEnded = { id: 'end-1', reason: 'idle', scope: 'sso', session, rps: [rp('with-uri', 'sid-a'), rp('no-uri', 'sid-b')], deadlineAt: now - 5 };
  await store.ended.append(ended, 30_000);
  const queued: Delivery[][] = [];
  return { clock, store, ended, now, listener: enqueueLogoutTokens(store, (d) => void queued.push(d)), queued };
}

describe('deliveryId', () => {
  it('is the same for the same RP session, and differs for another', () => {
    expect(deliveryId('e', 's', 'c', 'sid')).toBe(deliveryId('e', 's', 'c', 'sid'));
    expect(deliveryId('e', 's', 'c', 'sid')).not.toBe(deliveryId('e', 's', 'c', 'sid2'));
    expect(deliveryId('e', 's', 'c', 'sid')).not.toBe(deliveryId('e', 's', 'c2', 'sid'));
    // The fields are separated: shifting text between them is another id.
    expect(deliveryId('e', 'ab', 'c', 'sid')).not.toBe(deliveryId('e', 'a', 'bc', 'sid'));
    expect(deliveryId('e', 's', 'c', 'sid')).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('starts with its ending\'s routing prefix, so the store finds it where it keeps the ending', () => {
    expect(deliveryId('s7.0b1c', 's', 'c', 'sid')).toBe(`s7.${deliveryId('0b1c', 's', 'c', 'sid')}`);
    // The rest does not depend on the ending: processed again, the same end names the same ids.
    expect(deliveryId('s7.a', 's', 'c', 'sid')).toBe(deliveryId('s7.b', 's', 'c', 'sid'));
  });
});

describe('enqueueLogoutTokens', () => {
  it('queues one token per ended RP session whose client has a back-channel URI, due now', async () => {
    const t = await setup();
    await t.listener(t.ended);
    expect(t.queued).toHaveLength(1);
    expect(t.queued[0]).toEqual([expect.objectContaining({
      id: deliveryId('end-1', 'uid-1', 'with-uri', 'sid-a'), org: 'acme', client: 'with-uri', uri: 'http://127.0.0.1:8090/bcl', sub: 'u1', sid: 'sid-a',
      reason: 'idle', session: 'uid-1', endedAt: t.now - 5, enqueuedAt: t.now, attempts: 0, state: 'pending', nextAttemptAt: t.now,
    })]);
    expect(await t.store.deliveries.get(deliveryId('end-1', 'uid-1', 'no-uri', 'sid-b'))).toBeUndefined();
    expect((await t.store.deliveries.get(deliveryId('end-1', 'uid-1', 'with-uri', 'sid-a')))?.state).toBe('pending');
  });

  it('queues nothing twice when the end is processed again after a crash', async () => {
    const t = await setup();
    await t.listener(t.ended);
    await t.listener(t.ended);
    expect(t.queued).toHaveLength(1);
    expect(await t.store.deliveries.list('acme', 'pending')).toHaveLength(1);
  });

  it('still tells a deleted client, at the URI its tombstone kept', async () => {
    const t = await setup();
    await t.store.directory.deleteClient('with-uri');
    await t.listener(t.ended);
    expect(t.queued[0]?.map((d) => d.uri)).toEqual(['http://127.0.0.1:8090/bcl']);
  });

  it('dates the end at its deadline for a timeout, at now otherwise', async () => {
    const t = await setup();
    const { deadlineAt: _, ...logout } = t.ended;
    await t.listener({ ...logout, reason: 'logout' });
    expect(t.queued[0]?.[0]).toMatchObject({ endedAt: t.now, reason: 'logout' });
  });
});
