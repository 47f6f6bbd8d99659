import { afterEach, describe, expect, it } from 'vitest';
import type { EndStep } from '../../src/sessions/service.ts';
import { startCurfew, type Harness } from '../support/curfew.ts';
import { RedisServer } from '../support/redis-server.ts';
import { RpReceiver } from '../support/rp-receiver.ts';
import { ALLOW, CLIENTS, drain, eventually, seedFor, startSessions, tally, type Tally } from './wave.ts';

const SESSIONS = 10;
/** Longer than ioredis rides out by itself (two reconnect attempts), as a real restart is. */
const OUTAGE_MS = 1_000;
const STEPS: EndStep[] = ['ended', 'grants-revoked', 'deliveries-queued', 'step-up-required', 'audited'];
/** What each fault cost, printed for the README's figures. */
const figures: Record<string, Tally> = {};

describe('a Redis restart in the middle of an end (redis, AOF, SIGKILL)', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });

  /**
   * A wave of ends (half whole sessions, half one RP session at a time, all at once) on a Redis
   * killed with SIGKILL at `fault` — by the first end that reaches that step, or the first
   * delivery an RP acknowledges — and started again OUTAGE_MS later on the same AOF.
   */
  async function wave(fault: EndStep | 'acknowledged') {
    const redis = new RedisServer({ persistent: true });
    await redis.start();
    cleanups.push(() => redis.close());
    const rp = new RpReceiver();
    await rp.start();
    cleanups.push(() => rp.close());
    let back: Promise<void> | undefined;
    const crash = async () => {
      if (back) return;
      back = redis.kill().then(() => new Promise((r) => setTimeout(r, OUTAGE_MS))).then(() => redis.start());
      // The step after this one runs against a dead Redis.
      while (await redis.alive()) await new Promise((r) => setTimeout(r, 5));
    };
    const h: Harness = await startCurfew('redis', {
      redis: { url: redis.url },
      seed: seedFor(rp),
      config: ALLOW,
      ...(fault === 'acknowledged' ? { deliveryFaults: crash } : { endFaults: async (step) => (step === fault ? crash() : undefined) }),
    });
    cleanups.push(() => h.close());
    rp.trust(h.url, `${h.url}/jwks`, () => h.clock.now());
    const uids = await startSessions(h, fault, SESSIONS);

    const endOne = (uid: string, i: number): Promise<unknown> =>
      i % 2 === 0 ? h.curfew.sessions.end(uid, 'admin') : Promise.all(CLIENTS.map((client) => h.curfew.sessions.endRp(uid, client, 'admin')));
    const first = await Promise.allSettled(uids.map(endOne));
    if (fault === 'acknowledged') await h.curfew.sender.tick();
    expect(back, 'the fault was reached').toBeDefined();
    await back;
    // An end Redis refused while it was down never happened: the admin repeats it.
    for (const [i, result] of first.entries()) if (result.status === 'rejected') await eventually(() => endOne(uids[i]!, i));
    // Whatever is left is a worker's once its lease runs out.
    await eventually(() => h.clock.advance(h.config.sweeper.leaseMs + h.config.backchannel.leaseMs));
    await drain(h, rp, uids);

    for (const uid of uids) {
      const left = await h.store.sessions.get(uid);
      expect(left === undefined || Object.values(left.rps).every((r) => r.endedAt !== undefined)).toBe(true);
    }
    const t = await tally(h, rp, uids, SESSIONS / 2 + (SESSIONS / 2) * CLIENTS.length);
    figures[fault] = t;
    console.log(`redis restart at ${fault}: ${JSON.stringify(t)}`);
    return t;
  }

  for (const step of STEPS) {
    it(`after step '${step}': every owed token is delivered, none twice`, async () => {
      const t = await wave(step);
      expect(t.lost).toBe(0);
      expect(t.delivered).toBe(SESSIONS * CLIENTS.length);
      expect(t.duplicates).toBe(0);
      expect(t.duplicateAudits).toBe(0);
    });
  }

  it('after an RP acknowledged a token: marked delivered once Redis is back, not re-sent', async () => {
    const t = await wave('acknowledged');
    expect(t.lost).toBe(0);
    expect(t.duplicates).toBe(0);
    expect(t.duplicateAudits).toBe(0);
  });
});
