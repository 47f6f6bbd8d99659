import type { Logger } from '../logger.ts';
import type { DirectoryStore, RateLimiter } from '../store/types.ts';
import type { ControlTest } from './control-test.ts';

/**
 * Runs the control test of every org once per interval, on one instance: each run is claimed by
 * taking the one point of a per-org window in the store's limiter (one atomic step across
 * instances), so the first instance to look in a window runs it and the others find it taken.
 */
export function controlTestSchedule(deps: { directory: DirectoryStore; controlTest: ControlTest; lease: RateLimiter; logger: Logger; checkEveryMs: number }) {
  const log = deps.logger.child({ component: 'compliance-schedule' });
  let timer: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<unknown>>();

  async function tick(): Promise<number> {
    let started = 0;
    for (const org of await deps.directory.listOrgs()) {
      const claim = await deps.lease.reserve(`control-test:${org.id}`);
      if (!claim.granted) continue;
      started += 1;
      const run = deps.controlTest.run(org.id, 'schedule', 'system:schedule')
        .then((result) => log.info({ org: org.id, outcome: result?.outcome }, 'scheduled control test finished'))
        .catch((err: unknown) => log.error({ err, org: org.id }, 'scheduled control test failed to run'))
        .finally(() => inFlight.delete(run));
      inFlight.add(run);
    }
    return started;
  }

  return {
    tick,
    start() {
      if (timer) return;
      const loop = () => {
        tick().catch((err: unknown) => log.error({ err }, 'control test schedule failed')).finally(() => {
          if (timer) timer = setTimeout(loop, deps.checkEveryMs);
        });
      };
      timer = setTimeout(loop, 0);
    },
    async stop() {
      clearTimeout(timer);
      timer = undefined;
      await Promise.allSettled([...inFlight]);
    },
  };
}
