/**
 * One more Curfew instance for bench/expiry.ts (BENCH_INSTANCES > 1), as `CURFEW_WORKERS` forks
 * them: its own process, the same Redis prefix and configuration, its own sweeper and delivery
 * worker. Driven over IPC by the bench: `start` starts its workers, `stop` closes it and
 * answers with the CPU it spent from `start` on.
 */
import { Writable } from 'node:stream';
import { createCurfew } from '../src/app.ts';
import { loadConfig } from '../src/config/load.ts';
import { createLogger } from '../src/logger.ts';
import { createRedisStore } from '../src/store/redis/index.ts';

const overrides = JSON.parse(process.env.BENCH_CONFIG ?? '{}') as Record<string, unknown>;
const config = loadConfig({ LOG_LEVEL: 'warn' }, overrides);
const store = createRedisStore({ url: config.redis.url!, prefix: config.redis.prefix });
const logger = createLogger('warn', new Writable({ write: (_c, _e, done) => done() }));
const curfew = await createCurfew({ config, store, logger });
let cpu0 = process.cpuUsage();
let main0 = process.threadCpuUsage();
process.on('message', async (m: string) => {
  if (m === 'start') {
    cpu0 = process.cpuUsage();
    main0 = process.threadCpuUsage();
    curfew.startWorkers();
  }
  if (m === 'stop') {
    await curfew.close();
    const cpu = process.cpuUsage(cpu0);
    const main = process.threadCpuUsage(main0);
    await store.close();
    process.send!({ cpuMs: (cpu.user + cpu.system) / 1000, mainCpuMs: (main.user + main.system) / 1000 }, () => process.exit(0));
  }
});
// The bench died (or was stopped): this instance must not outlive it.
process.on('disconnect', () => process.exit(1));
process.send!('ready');
