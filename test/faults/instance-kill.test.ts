import { afterEach, describe, expect, it } from 'vitest';
import type { EndStep } from '../../src/sessions/service.ts';
import { startCurfew, type Harness } from '../support/curfew.ts';
import { startScript, type Started } from '../support/process.ts';
import { freshPrefix, REDIS_URL } from '../support/redis.ts';
import { RpReceiver } from '../support/rp-receiver.ts';
import { ALLOW, CLIENTS, drain, seedFor, startSessions, tally } from './wave.ts';

const SESSIONS = 10;
const STEPS: EndStep[] = ['ended', 'grants-revoked', 'deliveries-queued', 'step-up-required', 'audited'];

describe('an instance SIGKILLed in the middle of an end (redis)', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });

  /**
   * Instance A (a child process) ends a wave of sessions and is SIGKILLed where every end stands
   * at `fault`; instance B, on the same Redis, finishes what A left.
   */
  async function killedAt(fault: EndStep | 'acknowledged') {
    const rp = new RpReceiver();
    await rp.start();
    cleanups.push(() => rp.close());
    const prefix = freshPrefix('killend');
    const b: Harness = await startCurfew('redis', { prefix, seed: seedFor(rp), config: ALLOW });
    cleanups.push(() => b.close());
    rp.trust(b.url, `${b.url}/jwks`, () => b.clock.now());
    const uids = await startSessions(b, fault, SESSIONS);

    const a: Started = await startScript('test/faults/end-instance.ts', { REDIS_URL, PREFIX: prefix, ISSUER: b.url, FAULT_STEP: fault, FAULT_UIDS: uids.join(',') }, new RegExp(`fault:${fault}`));
    cleanups.push(() => a.stop());
    // Every end of the wave stands at the step (for `acknowledged`, the first token is in).
    const ends = SESSIONS / 2 + (SESSIONS / 2) * CLIENTS.length;
    const reached = () => a.output().split(`fault:${fault}`).length - 1;
    for (let waited = 0; fault !== 'acknowledged' && reached() < ends; waited += 20) {
      if (waited > 10_000) throw new Error(`only ${reached()} of ${ends} ends reached ${fault}:\n${a.output()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    a.child.kill('SIGKILL');
    await new Promise((r) => a.child.once('exit', r));
    const acknowledgedBeforeKill = rp.received.length;
    expect(a.output()).not.toMatch(/finished without reaching its fault/);

    await b.clock.advance(b.config.sweeper.leaseMs + b.config.backchannel.leaseMs);
    await drain(b, rp, uids);
    const t = await tally(b, rp, uids, ends);
    console.log(`instance killed at ${fault}: ${JSON.stringify(t)}`);
    return { ...t, acknowledgedBeforeKill };
  }

  for (const step of STEPS) {
    it(`after step '${step}': another instance delivers every owed token, none twice`, async () => {
      const t = await killedAt(step);
      expect(t.lost).toBe(0);
      expect(t.delivered).toBe(SESSIONS * CLIENTS.length);
      expect(t.duplicates).toBe(0);
      expect(t.duplicateAudits).toBe(0);
    });
  }

  it('after an RP acknowledged a token: nothing lost; re-sent only what was in flight', async () => {
    const t = await killedAt('acknowledged');
    expect(t.lost).toBe(0);
    // At-least-once: a token the RP acknowledged as the instance died, before it could record
    // that, is sent again — only those, never one it had recorded.
    expect(t.duplicates).toBeLessThanOrEqual(t.acknowledgedBeforeKill);
  });
});
