/**
 * A Curfew instance for test/faults/instance-kill.test.ts, run as a child process: it ends the
 * sessions named in FAULT_UIDS (even ones whole, odd ones one RP session at a time) and stops
 * dead at FAULT_STEP — printing `fault:<step>` and never going on — so the test can SIGKILL it
 * exactly there. FAULT_STEP `acknowledged` stops after an RP acknowledged a token instead.
 */
import { createCurfew } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/logger.ts';
import { createRedisStore } from '../../src/store/redis/index.ts';

const { REDIS_URL, PREFIX, ISSUER, FAULT_STEP, FAULT_UIDS } = process.env;
if (!REDIS_URL || !PREFIX || !ISSUER || !FAULT_STEP || !FAULT_UIDS) throw new Error('end-instance: REDIS_URL, PREFIX, ISSUER, FAULT_STEP and FAULT_UIDS are required');
const clients = ['acme-app', 'acme-other'];

const config = loadConfig({ LOG_LEVEL: 'warn' }, { issuer: ISSUER, port: 0, 'backchannel.allowlist': ['http://127.0.0.1:*'] });
const store = createRedisStore({ url: REDIS_URL, prefix: PREFIX, pinnableClock: true });
const stop = async (step: string): Promise<void> => {
  process.stdout.write(`fault:${step}\n`);
  await new Promise(() => {});
};
const curfew = await createCurfew({
  config,
  store,
  logger: createLogger('warn'),
  endFaults: async (step) => (step === FAULT_STEP ? stop(step) : undefined),
  deliveryFaults: async (step) => (step === FAULT_STEP ? stop(step) : undefined),
});
process.stdout.write('instance ready\n');
await Promise.all(
  FAULT_UIDS.split(',').map((uid, i) => (i % 2 === 0 ? curfew.sessions.end(uid, 'admin') : Promise.all(clients.map((client) => curfew.sessions.endRp(uid, client, 'admin'))))),
);
if (FAULT_STEP === 'acknowledged') await curfew.sender.tick();
process.stdout.write('instance finished without reaching its fault\n');
