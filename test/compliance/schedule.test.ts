import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { freshPrefix } from '../support/redis.ts';
import { startCurfew, type Harness } from '../support/curfew.ts';

const DAY_MS = 86_400_000;
const config = { 'compliance.controlTestIntervalMinutes': 1440, 'compliance.controlTestAnnounceSeconds': 1 };

async function controlTestEvents(h: Harness, org: string) {
  return (await h.store.audit.query({ org, type: 'compliance.control_test', limit: 100 })).items;
}

describe('the control test schedule', () => {
  const harnesses: Harness[] = [];
  afterEach(async () => {
    for (const h of harnesses.splice(0)) await h.close();
  });

  it('two instances on one Redis, 50 concurrent looks: each org\'s run is claimed once per interval', async () => {
    const prefix = freshPrefix('redis');
    const a = await startCurfew('redis', { prefix, config });
    const b = await startCurfew('redis', { prefix, config });
    harnesses.push(b, a);
    const schedules = [a.curfew.compliance.schedule, b.curfew.compliance.schedule];
    expect(schedules.every((s) => s !== undefined)).toBe(true);
    const started = await Promise.all(Array.from({ length: 50 }, (_, i) => schedules[i % 2]!.tick()));
    // acme and globex: one run each, whichever instance looked first.
    expect(started.reduce((sum, n) => sum + n, 0)).toBe(2);
    expect([a, b].flatMap((h) => ['acme', 'globex'].filter((org) => h.curfew.compliance.controlTest.isRunning(org))).sort()).toEqual(['acme', 'globex']);
    // Later in the same interval: nothing to claim.
    expect((await Promise.all(schedules.map((s) => s!.tick()))).reduce((x, y) => x + y, 0)).toBe(0);

    // Stopping interrupts the runs (recorded, not waited out).
    await Promise.all([a.curfew.compliance.stop(), b.curfew.compliance.stop()]);
    for (const org of ['acme', 'globex']) {
      const runs = await controlTestEvents(a, org);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ actor: 'system:schedule', data: { trigger: 'schedule', outcome: 'fail', failures: ['interrupted: the instance shut down before the test finished'] } });
    }
    // The next interval is claimable again (the lease is on the shared clock).
    await a.clock.set((await a.clock.now()) + DAY_MS);
    expect((await Promise.all(Array.from({ length: 50 }, (_, i) => schedules[i % 2]!.tick()))).reduce((x, y) => x + y, 0)).toBe(2);
  });

  it('is off by default: no schedule, the control test only on demand', async () => {
    expect(loadConfig({}).compliance.controlTestIntervalMinutes).toBe(0);
    const h = await startCurfew('memory');
    harnesses.push(h);
    expect(h.curfew.compliance.schedule).toBeUndefined();
  });

  it('is set with CURFEW_CONTROL_TEST_INTERVAL_MINUTES, and a bad value stops the start', () => {
    expect(loadConfig({ CURFEW_CONTROL_TEST_INTERVAL_MINUTES: '1440' }).compliance.controlTestIntervalMinutes).toBe(1440);
    expect(() => loadConfig({ CURFEW_CONTROL_TEST_INTERVAL_MINUTES: 'daily' })).toThrow(ConfigError);
    expect(() => loadConfig({ CURFEW_CONTROL_TEST_INTERVAL_MINUTES: '-5' })).toThrow(/compliance\.controlTestIntervalMinutes/);
  });
});
