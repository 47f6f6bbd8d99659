import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisStore } from '../../src/store/redis/index.ts';
import { startCurfew, testSeed, type Harness } from '../support/curfew.ts';
import { freePort, startMain, type Started } from '../support/process.ts';
import { deletePrefix, freshPrefix, REDIS_URL } from '../support/redis.ts';
import { RpReceiver } from '../support/rp-receiver.ts';

const MIN = 60_000;
const ALLOW = { 'backchannel.allowlist': ['http://127.0.0.1:*'] };

function seedFor(rp: RpReceiver) {
  const s = testSeed();
  s.orgs[0]!.policy = { ...s.orgs[0]!.policy, idleTimeoutSeconds: 900 } as typeof s.orgs[0]['policy'];
  for (const client of s.orgs[0]!.clients as Array<Record<string, unknown>>) {
    if (client.client_id === 'acme-app' || client.client_id === 'acme-other') client.backchannel_logout_uri = rp.uri(String(client.client_id));
  }
  return s;
}

describe('durability across instances (redis)', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('a provider killed mid-delivery loses nothing: another instance delivers after the lease', async () => {
    const rp = new RpReceiver();
    await rp.start();
    cleanups.push(() => rp.close());
    const prefix = freshPrefix('kill');
    cleanups.push(() => deletePrefix(prefix));
    const dir = mkdtempSync(join(tmpdir(), 'curfew-kill-'));
    const seedFile = join(dir, 'seed.json');
    writeFileSync(seedFile, JSON.stringify(seedFor(rp)));
    const port = await freePort();

    // Instance A: the real entry point, workers running, its RP hanging on the first attempt.
    rp.behaviour.set('acme-app', 'hang');
    const a: Started = await startMain(
      { PORT: String(port), ISSUER: `http://127.0.0.1:${port}`, REDIS_URL, CURFEW_REDIS_PREFIX: prefix, CURFEW_SEED: seedFile, CURFEW_BACKCHANNEL_ALLOWLIST: 'http://127.0.0.1:*', CURFEW_TEST_PINNABLE_CLOCK: '1', LOG_LEVEL: 'info' },
      /Curfew is serving/,
    );
    cleanups.push(() => a.stop());
    const store = createRedisStore({ url: REDIS_URL, prefix });
    cleanups.push(() => store.close());
    const now = await store.now();
    const alice = await store.directory.findUserByName('acme', 'alice');
    await store.deliveries.enqueue([{
      id: randomUUID(), org: 'acme', client: 'acme-app', uri: rp.uri('acme-app'), sub: alice!.id, sid: 'sid-killed', reason: 'admin',
      session: 'uid-killed', endedAt: now, enqueuedAt: now, attempts: 0, state: 'pending', nextAttemptAt: now,
    }]);
    await rp.waitFor(() => rp.requests >= 1, 5_000);
    a.child.kill('SIGKILL');
    await new Promise((r) => a.child.once('exit', r));
    rp.behaviour.delete('acme-app');

    // Instance B, same Redis, same issuer. The claim is A's until its lease runs out.
    const b: Harness = await startCurfew('redis', { prefix, port, seed: seedFor(rp), config: ALLOW });
    cleanups.push(() => b.close());
    // A ran on the Redis server's time (nothing pinned); B's pinned clock goes on from there,
    // and the RP's clock agrees with it.
    await b.clock.set(await store.now());
    rp.trust(b.url, `${b.url}/jwks`, () => b.clock.now());
    expect(await b.curfew.sender.tick()).toBe(0);
    await b.clock.advance(b.config.backchannel.leaseMs + 1);
    expect(await b.curfew.sender.tick()).toBe(1);
    expect(rp.received.map((r) => r.payload.sid)).toEqual(['sid-killed']);
    expect(await store.deliveries.list('acme', 'pending')).toEqual([]);
  });

  it('two instances sweeping end every session exactly once', async () => {
    const rp = new RpReceiver();
    await rp.start();
    cleanups.push(() => rp.close());
    const prefix = freshPrefix('sweep2');
    const small = { ...ALLOW, 'sweeper.batch': 4 };
    const one = await startCurfew('redis', { prefix, seed: seedFor(rp), config: small });
    cleanups.push(() => one.close());
    const two = await startCurfew('redis', { prefix, seed: seedFor(rp), config: small });
    cleanups.push(() => two.close());

    const org = (await one.store.directory.getOrg('acme'))!;
    const alice = (await one.store.directory.findUserByName('acme', 'alice'))!;
    const t0 = await one.clock.now();
    const N = 30;
    for (let i = 0; i < N; i++) {
      await one.curfew.sessions.recordLogin({ uid: `uid-${i}`, user: alice, org, ip: '127.0.0.1' });
      await one.curfew.sessions.recordRp({ uid: `uid-${i}`, client: 'acme-app', sid: `sid-app-${i}` });
      await one.curfew.sessions.recordRp({ uid: `uid-${i}`, client: 'acme-other', sid: `sid-other-${i}` });
    }
    await one.clock.set(t0 + 15 * MIN);
    for (let round = 0; round < 20; round++) {
      const claimed = await Promise.all([one.curfew.sweeper.tick(), two.curfew.sweeper.tick(), one.curfew.sweeper.tick(), two.curfew.sweeper.tick()]);
      if (claimed.every((c) => c === 0)) break;
    }
    const ended = (await one.store.audit.query({ org: 'acme', type: 'session.ended', limit: 1000 })).items;
    expect(ended).toHaveLength(N);
    expect(new Set(ended.map((e) => e.session)).size).toBe(N);
    const pending = await one.store.deliveries.list('acme', 'pending');
    expect(pending).toHaveLength(2 * N);
    expect(new Set(pending.map((d) => d.sid)).size).toBe(2 * N);
  });
});
