import { afterEach, describe, expect, it } from 'vitest';
import type { EndStep } from '../../src/sessions/service.ts';
import { STORE_KINDS, startCurfew, type Harness } from '../support/curfew.ts';
import { RpReceiver } from '../support/rp-receiver.ts';
import { ALLOW, CLIENTS, drain, seedFor, startSessions, tally } from '../faults/wave.ts';

const STEPS: EndStep[] = ['ended', 'grants-revoked', 'deliveries-queued', 'step-up-required', 'audited'];

for (const kind of STORE_KINDS) {
  describe(`a session end that fails half-way (${kind})`, () => {
    const cleanups: Array<() => Promise<unknown>> = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    for (const step of STEPS) {
      it(`after '${step}': the session is dead at once; the sweeper finishes the end after its lease, once`, async () => {
        const rp = new RpReceiver();
        await rp.start();
        cleanups.push(() => rp.close());
        let failed = false;
        const h: Harness = await startCurfew(kind, {
          seed: seedFor(rp),
          config: ALLOW,
          endFaults: async (at) => {
            if (at !== step || failed) return;
            failed = true;
            throw new Error(`injected failure after ${at}`);
          },
        });
        cleanups.push(() => h.close());
        rp.trust(h.url, `${h.url}/jwks`, () => h.clock.now());
        const [uid] = await startSessions(h, step, 1);

        const ended = await h.curfew.sessions.end(uid!, 'admin');
        expect(ended?.rps.map((r) => r.client).sort()).toEqual([...CLIENTS].sort());
        // Dead whether or not what it owes was done.
        expect(await h.curfew.sessions.get(uid!)).toBeUndefined();
        expect(await h.store.ended.size()).toBe(1);
        // The entry is its ender's until the lease ends: no worker takes it over early.
        expect(await h.curfew.sweeper.tick()).toBe(0);
        await h.clock.advance(h.config.sweeper.leaseMs);
        await drain(h, rp, [uid!]);
        expect(await tally(h, rp, [uid!], 1)).toMatchObject({ owed: 2, delivered: 2, lost: 0, duplicates: 0, duplicateAudits: 0 });
      });
    }
  });
}
