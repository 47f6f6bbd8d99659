import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIBRARY } from '../../src/store/redis/library.ts';
import { signIn, startCurfew, type Harness } from '../support/curfew.ts';
import { freshPrefix } from '../support/redis.ts';
import { RedisCluster } from '../support/redis-cluster.ts';
import type { RedisServer } from '../support/redis-server.ts';
import { RpReceiver } from '../support/rp-receiver.ts';
import { ALLOW, appStatus, CLIENTS, drain, eventually, seedFor, sidOf, startSessions, tally } from './wave.ts';

const MIN = 60_000;
/** The test seed's idle limit. */
const IDLE_MS = 15 * MIN;

/**
 * Issue 15: "a session made before a failover is still enforced after it; nothing queued is
 * lost" — on Redis Cluster. Three primaries with a replica each (Debian's redis-server on
 * loopback); the primary holding a signed-in session and queued logout tokens fails over to its
 * replica (CLUSTER FAILOVER) while requests run.
 */
describe('Redis Cluster: a primary fails over to its replica mid-traffic', () => {
  const cluster = new RedisCluster({ replicas: 1 });
  const rp = new RpReceiver();
  const prefix = freshPrefix('cluster-failover');
  let h: Harness;
  beforeAll(async () => {
    await cluster.start();
    await rp.start();
    h = await startCurfew('redis', { prefix, redis: { url: cluster.url, cluster: cluster.target.cluster }, seed: seedFor(rp), config: ALLOW });
    rp.trust(h.url, `${h.url}/jwks`, () => h.clock.now());
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await rp.close();
    await cluster.close();
  });

  const statusOf = (sid: string) => appStatus(h, sid);

  it('enforces the session made before it to the ms after it, delivers every queued token once, and never answers 500', { timeout: 90_000 }, async () => {
    const t0 = await h.clock.now();
    const signed = await signIn(h, h.userAgent(), 'acme-app', 'alice');
    const sid = String(signed.claims.sid);
    const live = await startSessions(h, 'live', 8);
    const queued = await startSessions(h, 'queued', 8);
    for (const q of queued) await h.curfew.sessions.end(q, 'admin');
    expect(rp.received).toHaveLength(0);

    // The primary to fail over: the one holding alice's session record.
    const sessions = await cluster.sessionsByPrimary(prefix);
    const alice = [...sessions.keys()].find((u) => !u.startsWith('uid-'));
    const victim = sessions.get(alice!)!;
    const queuedThere = [...(await cluster.keysOn(victim, prefix))].filter((k) => k.includes('}delivery:')).length;

    // Traffic throughout: status checks of every live session, one after another.
    const answers: number[] = [];
    let stop = false;
    const traffic = (async () => {
      while (!stop) {
        for (const u of live) answers.push((await statusOf(sidOf(u, 'acme-app'))).status);
      }
    })();
    let promoted: RedisServer;
    try {
      promoted = await cluster.failover(victim);
      // A little traffic on the new layout before it stops.
      const seen = answers.length;
      await eventually(async () => {
        if (answers.length < seen + live.length) throw new Error('not yet');
      });
    } finally {
      stop = true;
      await traffic;
    }
    expect(answers.length).toBeGreaterThan(live.length);
    expect(answers.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(await cluster.hasLibrary(promoted, LIBRARY)).toBe(true);
    console.log(`cluster failover ${victim.port} → ${promoted.port}: ${answers.length} statuses, ${answers.filter((s) => s === 503).length} answered 503; ${queuedThere} queued deliveries were on the failed-over primary`);

    // Nothing queued before the failover is lost or sent twice.
    await drain(h, rp, queued, 30_000);
    expect(await tally(h, rp, queued, queued.length)).toMatchObject({ owed: queued.length * CLIENTS.length, delivered: queued.length * CLIENTS.length, lost: 0, duplicates: 0 });
    for (const u of live) expect((await statusOf(sidOf(u, 'acme-app'))).active, u).toBe(true);

    // The session made before it is enforced after it, to the ms.
    const app = await h.rp('acme-app');
    await h.clock.set(t0 + IDLE_MS - 1);
    expect(await statusOf(sid)).toMatchObject({ status: 200, active: true });
    const renewed = await oidc.refreshTokenGrant(app, signed.tokens.refresh_token!);
    expect(renewed.access_token).toBeTruthy();
    await h.clock.set(t0 + IDLE_MS);
    expect(await statusOf(sid)).toMatchObject({ status: 200, active: false });
    await expect(oidc.refreshTokenGrant(app, renewed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // The sweeper ends it (with the live sessions, past their idle deadline too) and its token arrives, verified with jose.
    await drain(h, rp, []);
    await rp.waitFor(() => rp.received.some((r) => r.client === 'acme-app' && r.payload.sid === sid));
  });
});
