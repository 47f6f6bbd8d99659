import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTION_NAME } from '../../src/store/redis/connection.ts';
import { LIBRARY } from '../../src/store/redis/library.ts';
import { freePort, runMain, startMain } from '../support/process.ts';
import { signIn, startCurfew, type Harness } from '../support/curfew.ts';
import { freshPrefix } from '../support/redis.ts';
import { CLUSTER_PASSWORD, RedisCluster } from '../support/redis-cluster.ts';
import type { RedisServer } from '../support/redis-server.ts';
import { RpReceiver } from '../support/rp-receiver.ts';
import { ALLOW, appStatus, CLIENTS, drain, eventually, seedFor, sidOf, startSessions, tally } from './wave.ts';

const MIN = 60_000;
/** The test seed's idle limit. */
const IDLE_MS = 15 * MIN;

describe('Redis Cluster: Curfew on three primaries, one of them killed and started again', () => {
  const cluster = new RedisCluster();
  const rp = new RpReceiver();
  let prefix: string;
  let h: Harness;
  beforeAll(async () => {
    await cluster.start();
    // The keys every request or end reads besides its session's shard — the directory ({dir}),
    // the org's audit stream, the marker, the test clock's pin — each live on one primary. A
    // prefix whose such keys share the directory's primary leaves the others free to be killed
    // while everything not in their slots keeps answering (see the README: give each primary
    // replicas, or the directory's going down stops every sign-in and status).
    const single = (p: string) => [`${p}{dir}orgs`, `${p}clock:pinned`, `${p}audit:acme`, `${p}audit:_`, `${p}marker`];
    // About 1 in 81 prefixes qualifies: 2,000 candidates, asked in one go, leave no real chance of none.
    const candidates = Array.from({ length: 2_000 }, () => freshPrefix('cluster'));
    const servers = await cluster.primariesOf(candidates.flatMap(single));
    const at = candidates.findIndex((_, i) => new Set(servers.slice(i * 5, i * 5 + 5)).size === 1);
    expect(at).toBeGreaterThanOrEqual(0);
    prefix = candidates[at]!;
    await rp.start();
    h = await startCurfew('redis', { prefix, redis: { url: cluster.url, cluster: cluster.target.cluster }, seed: seedFor(rp), config: ALLOW });
    rp.trust(h.url, `${h.url}/jwks`, () => h.clock.now());
  }, 40_000);
  afterAll(async () => {
    await h?.close();
    await rp.close();
    await cluster.close();
  });

  /** delivery session uid → the primary holding its record. */
  async function deliveriesByPrimary(): Promise<Map<RedisServer, number>> {
    const counts = new Map<RedisServer, number>();
    for (const server of cluster.primaries) counts.set(server, (await cluster.keysOn(server, prefix)).filter((k) => k.includes('}delivery:')).length);
    return counts;
  }

  const statusOf = (sid: string) => appStatus(h, sid);

  it('enforces deadlines to the ms and delivers verified logout tokens, with sessions on every primary', { timeout: 60_000 }, async () => {
    for (const server of cluster.primaries) expect(await cluster.hasLibrary(server, LIBRARY)).toBe(true);
    const t0 = await h.clock.now();
    const signed = await signIn(h, h.userAgent(), 'acme-app', 'alice');
    const sid = String(signed.claims.sid);
    await startSessions(h, 'spread', 16);
    const where = await cluster.sessionsByPrimary(prefix);
    expect(where.size).toBe(17);
    // Sharded by a hash tag per shard: the sessions are spread over the cluster, not on one primary.
    expect(new Set(where.values()).size).toBeGreaterThanOrEqual(2);

    const app = await h.rp('acme-app');
    await h.clock.set(t0 + IDLE_MS - 1);
    expect(await statusOf(sid)).toMatchObject({ status: 200, active: true });
    const renewed = await oidc.refreshTokenGrant(app, signed.tokens.refresh_token!);
    expect(renewed.access_token).toBeTruthy();
    await h.clock.set(t0 + IDLE_MS);
    expect(await statusOf(sid)).toMatchObject({ status: 200, active: false });
    await expect(oidc.refreshTokenGrant(app, renewed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // The sweeper ends it (and the spread sessions, also past their idle deadline) and the tokens arrive, verified with jose.
    await drain(h, rp, []);
    await rp.waitFor(() => rp.received.some((r) => r.client === 'acme-app' && r.payload.sid === sid));
    const uids = [...where.keys()].filter((u) => u.startsWith('uid-spread-'));
    expect(await tally(h, rp, uids, uids.length)).toMatchObject({ owed: uids.length * CLIENTS.length, delivered: uids.length * CLIENTS.length, lost: 0, duplicates: 0 });
  });

  it('keeps serving the other primaries\' sessions and tokens while one is down (503 for its slots, never 500), and loses nothing queued', { timeout: 60_000 }, async () => {
    rp.received.length = 0;
    const live = await startSessions(h, 'live', 12);
    const queued = await startSessions(h, 'queued', 12);
    // Ended, their tokens queued and not sent yet.
    for (const uid of queued) await h.curfew.sessions.end(uid, 'admin');
    expect(rp.received).toHaveLength(0);
    const pending = await deliveriesByPrimary();
    const where = await cluster.sessionsByPrimary(prefix);
    // The primary to kill: one holding queued tokens, with others holding some too.
    const [directory] = await cluster.primariesOf([`${prefix}{dir}orgs`]);
    const victim = [...pending].sort((a, b) => b[1] - a[1]).find(([server, n]) => server !== directory && n > 0)![0];
    const elsewhere = [...pending].filter(([server]) => server !== victim).reduce((n, [, count]) => n + count, 0);
    expect(pending.get(victim)).toBeGreaterThan(0);
    expect(elsewhere).toBeGreaterThan(0);

    await victim.kill();
    try {
      // Its slots answer 503 with Retry-After; the others' sessions answer as before.
      const onVictim = live.filter((uid) => where.get(uid) === victim);
      const answers = await Promise.all(live.map(async (uid) => ({ uid, ...(await statusOf(sidOf(uid, 'acme-app'))) })));
      for (const a of answers) {
        expect([200, 503], a.uid).toContain(a.status);
        if (a.status === 503) expect(a.retryAfter).toBeTruthy();
        if (a.status === 200) expect(a.active).toBe(true);
      }
      expect(onVictim.length).toBeGreaterThan(0);
      for (const uid of onVictim) expect(answers.find((a) => a.uid === uid)?.status, uid).toBe(503);
      expect(answers.filter((a) => a.status === 200).length).toBeGreaterThan(0);
      // The sender keeps delivering what the other primaries hold.
      const until = Date.now() + 20_000;
      while (rp.received.length < elsewhere && Date.now() < until) {
        if ((await h.curfew.sender.tick().catch(() => 0)) === 0) await new Promise((r) => setTimeout(r, 50));
      }
      expect(rp.received.length).toBe(elsewhere);
      console.log(`cluster primary ${victim.port} down: ${answers.filter((a) => a.status === 200).length}/${answers.length} statuses 200, ${answers.filter((a) => a.status === 503).length} 503 (${onVictim.length} sessions on it); ${elsewhere} tokens held by the other primaries delivered meanwhile, ${pending.get(victim)} waiting on it`);
    } finally {
      await cluster.restart(victim);
    }
    // Back with its AOF: what it held is delivered, nothing lost, nothing twice.
    expect(await cluster.hasLibrary(victim, LIBRARY)).toBe(true);
    await eventually(() => h.store.ping());
    await drain(h, rp, queued, 30_000);
    expect(await tally(h, rp, queued, queued.length)).toMatchObject({ owed: queued.length * CLIENTS.length, delivered: queued.length * CLIENTS.length, lost: 0, duplicates: 0 });
    for (const uid of live) expect(await eventually(async () => (await statusOf(sidOf(uid, 'acme-app'))).active)).toBe(true);
  });

  it('answers 503 (readiness too, liveness holds) while the whole cluster is down, and resumes when it is back, without a restart', { timeout: 60_000 }, async () => {
    const [uid] = await startSessions(h, 'outage', 1);
    const sid = sidOf(uid!, 'acme-app');
    expect(await statusOf(sid)).toMatchObject({ status: 200, active: true });
    for (const server of cluster.primaries) await server.kill();
    try {
      // Answered, not held until the cluster is back.
      expect(await eventually(async () => {
        const s = await statusOf(sid);
        if (s.status !== 503) throw new Error(`status ${s.status}`);
        return s;
      })).toMatchObject({ status: 503, retryAfter: expect.any(String) });
      expect((await fetch(`${h.url}/readyz`)).status).toBe(503);
      expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    } finally {
      for (const server of cluster.primaries) await server.start();
      await cluster.untilWhole();
    }
    expect(await eventually(async () => {
      const s = await statusOf(sid);
      if (s.status !== 200) throw new Error(`status ${s.status}`);
      return s;
    }, 20_000)).toMatchObject({ status: 200, active: true });
  });

  it('npm start opens the cluster from CURFEW_REDIS_CLUSTER, with the password from REDIS_URL_FILE', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'curfew-cluster-secrets-'));
    const urlFile = join(dir, 'redis_url');
    // The host is not used: the seed nodes are.
    writeFileSync(urlFile, `redis://:${CLUSTER_PASSWORD}@any-node.invalid:6379\n`, { mode: 0o600 });
    const port = await freePort();
    const mainPrefix = freshPrefix('cluster-main');
    const app = await startMain(
      {
        PORT: String(port),
        ISSUER: `http://127.0.0.1:${port}`,
        REDIS_URL_FILE: urlFile,
        CURFEW_REDIS_CLUSTER: cluster.target.cluster.nodes.join(','),
        CURFEW_REDIS_SHARDS: '8',
        CURFEW_REDIS_PREFIX: mainPrefix,
      },
      /Curfew is serving/,
    );
    try {
      expect(app.output()).toContain('"store":"redis"');
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      // Its directory and marker are in the cluster, and it holds a named connection to every primary.
      const keys = (await Promise.all(cluster.primaries.map((p) => cluster.keysOn(p, mainPrefix)))).flat();
      expect(keys).toEqual(expect.arrayContaining([`${mainPrefix}marker`]));
      for (const server of cluster.primaries) expect(await cluster.clientsNamed(server, CONNECTION_NAME)).toBeGreaterThan(0);
    } finally {
      await app.stop();
      rmSync(dir, { recursive: true, force: true });
      await cluster.deletePrefix(mainPrefix);
    }
  });

  it('stops with a clear message when no seed node answers', async () => {
    const { code, output } = await runMain({ PORT: '0', REDIS_URL: 'redis://any-node.invalid', CURFEW_REDIS_CLUSTER: `127.0.0.1:${await freePort()}` });
    expect(code).toBe(1);
    expect(output).toContain('the Redis Cluster of 127.0.0.1:');
    expect(output).toContain('does not answer (REDIS_URL, CURFEW_REDIS_CLUSTER)');
  });
});
