/**
 * Mass expiry and enforcement cost, against the local Redis (REDIS_URL, default 127.0.0.1:6379),
 * under a throwaway key prefix that is deleted afterwards. Numbers go to stdout as a Markdown table.
 *
 *   npm run bench:expiry                  # defaults
 *   BENCH_SESSIONS=20000 npm run bench:expiry
 *
 * 1. Enforcement cost: one passive session check (the Lua script that reads the session and
 *    the shared clock together) — the round trip enforcement adds to a request.
 * 2. Mass expiry: N sessions with 2 RP sessions each expire at the same instant; the sweeper
 *    and the delivery worker of one instance, already running as in production, end them and
 *    deliver 2·N logout tokens to a loopback receiver (on its own thread). The deadline arrives by the real clock
 *    (the sessions are signed in under a clock pinned BENCH_LEAD_MS less than their idle limit
 *    in the past, then the pin is lifted), so the sweeper's own wake-up is part of what is
 *    measured. Reported: time from the deadline until the last token arrived, and each token's
 *    lateness.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { Redis } from 'ioredis';
import { createCurfew } from '../src/app.ts';
import { loadConfig } from '../src/config/load.ts';
import { createLogger } from '../src/logger.ts';
import { parseSeed } from '../src/provisioning/seed.ts';
import { createRedisStore } from '../src/store/redis/index.ts';
import { timeStoreCalls } from '../src/store/time-store-calls.ts';
import { deletePrefix } from '../test/support/redis.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 5000);
const CHECKS = Number(process.env.BENCH_CHECKS ?? 5000);
/** The clients' ID-token (so logout-token) algorithm: RS256 signs ~10x slower than ES256. */
const ALG = process.env.BENCH_ALG === 'ES256' ? 'ES256' : 'RS256';
/**
 * How far ahead of the clock's release the sessions' deadline lies: enough to set them all up.
 * Setting up runs at 1 400–4 000 sessions/s here depending on what else the machine runs
 * (100 000 took 47–73 s with other suites on the same two cores), so 1.5 ms a session.
 */
const LEAD_MS = Number(process.env.BENCH_LEAD_MS ?? 5000 + 1.5 * (SESSIONS + Number(process.env.BENCH_WARMUP ?? 0)));
const IDLE_MS = 900_000;
/** Sessions ended and delivered before the measured wave, to measure a warm process (see below). */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 0);
/** CURFEW_SIGNING_THREADS for the instance under test (a number or `auto`); unset, its default. */
const THREADS = process.env.BENCH_SIGNING_THREADS;
/**
 * Curfew instances sharing the wave, as `CURFEW_WORKERS` runs them: this process's and
 * BENCH_INSTANCES − 1 more, each its own process (bench/expiry-instance.ts).
 */
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 1);
const prefix = `curfew-bench-${process.pid}:`;

/**
 * BENCH_CPU_PROF=file.cpuprofile: a V8 CPU profile of the wave alone (Curfew runs in this
 * process), from just before the deadline until the last token arrived; summarise it with
 * `node bench/profile-top.ts file.cpuprofile`.
 */
const PROFILE = process.env.BENCH_CPU_PROF;

async function profileWave(file: string): Promise<() => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

/**
 * The RPs' back-channel endpoint, on its own thread: receiving 2·N requests is the RPs' work, not
 * Curfew's, so it must not queue behind Curfew on one event loop. It stamps each arrival there.
 */
async function startReceiver() {
  const worker = new Worker(`
    const { parentPort } = require('node:worker_threads');
    const { createServer } = require('node:http');
    let arrivals = [];
    let cpu0 = process.threadCpuUsage();
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        arrivals.push(Date.now());
        res.writeHead(200).end();
        parentPort.postMessage({ received: arrivals.length });
      });
    });
    parentPort.on('message', (m) => {
      if (m === 'reset') arrivals = [];
      // The RP's own CPU (this thread's), so the wave's cost can leave it out: RPs run elsewhere.
      if (m === 'reset') cpu0 = process.threadCpuUsage();
      if (m === 'reset' || m === 'arrivals') parentPort.postMessage({ arrivals, cpuMs: (({ user, system }) => (user + system) / 1000)(process.threadCpuUsage(cpu0)) });
      if (m === 'close') server.close(() => parentPort.close());
    });
    server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
  `, { eval: true });
  const state = { received: 0 };
  const replies: Array<(answer: { arrivals: number[]; cpuMs: number }) => void> = [];
  const port = await new Promise<number>((resolve) => {
    worker.on('message', (m: { port?: number; received?: number; arrivals?: number[]; cpuMs?: number }) => {
      if (m.port !== undefined) resolve(m.port);
      if (m.received !== undefined) state.received = Math.max(state.received, m.received);
      if (m.arrivals) replies.shift()?.({ arrivals: m.arrivals, cpuMs: m.cpuMs ?? 0 });
    });
  });
  const ask = (what: 'reset' | 'arrivals') => new Promise<{ arrivals: number[]; cpuMs: number }>((resolve) => (replies.push(resolve), worker.postMessage(what)));
  return {
    base: `http://127.0.0.1:${port}`,
    get received() {
      return state.received;
    },
    async reset() {
      await ask('reset');
      state.received = 0;
    },
    arrivals: () => ask('arrivals'),
    close: () => new Promise<void>((resolve) => (worker.once('exit', () => resolve()), worker.postMessage('close'))),
  };
}

/** Redis's own CPU time so far (INFO cpu, all its threads), in ms: the server is shared, so approximate. */
async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return (seconds('used_cpu_sys') + seconds('used_cpu_user')) * 1000;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const cleanup = () => deletePrefix(prefix);

/** Another instance over the same store and configuration, its workers not yet started. */
async function startInstance(overrides: Record<string, unknown>): Promise<ChildProcess> {
  const child = fork(new URL('./expiry-instance.ts', import.meta.url), { env: { ...process.env, BENCH_CONFIG: JSON.stringify(overrides) } });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`a bench instance exited (${code}) before it was ready`)));
  });
  child.removeAllListeners('exit');
  return child;
}

/** Closes it (its last records written) and reads what CPU it spent on the wave. */
function stopInstance(child: ChildProcess): Promise<{ cpuMs: number; mainCpuMs: number }> {
  return new Promise((resolve) => {
    child.once('message', (m: { cpuMs: number; mainCpuMs: number }) => resolve(m));
    child.send('stop');
  });
}

async function main(): Promise<void> {
  const receiver = await startReceiver();
  const rpBase = receiver.base;

  const overrides = {
    port: 0,
    issuer: 'http://127.0.0.1:1',
    'redis.url': REDIS_URL,
    'redis.prefix': prefix,
    'backchannel.allowlist': [`${rpBase}`],
    'backchannel.batch': 1000,
    'backchannel.concurrencyPerClient': 64,
    'sweeper.batch': 1000,
    ...(THREADS !== undefined ? { 'backchannel.signingThreads': THREADS === 'auto' ? 'auto' : Number(THREADS) } : {}),
  };
  const config = loadConfig({ LOG_LEVEL: 'warn' }, overrides);
  // Store calls by operation from just before the deadline until the instance closed (its last
  // records written): what one end and one token cost in round trips.
  const calls = new Map<string, number>();
  let counting = false;
  const store = timeStoreCalls(createRedisStore({ url: REDIS_URL, prefix, pinnableClock: true }), (operation) => {
    if (counting) calls.set(operation, (calls.get(operation) ?? 0) + 1);
  });
  const logger = createLogger('warn', new Writable({ write: (_c, _e, done) => done() }));
  const curfew = await createCurfew({ config, store, logger });
  const policy = { idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 3600, warningSeconds: 60, mfa: 'off' };
  const client = (id: string) => ({ client_id: id, client_secret: `${id}-secret-0123456789`, redirect_uris: ['https://rp.example/cb'], backchannel_logout_uri: `${rpBase}/${id}`, id_token_signed_response_alg: ALG });
  await curfew.applySeed(parseSeed({
    orgs: [{ id: 'bench', name: 'Bench', policy, users: [{ username: 'u', password: 'bench password', roles: [] }], clients: [client('rp-a'), client('rp-b')] }],
  }, 'bench', config.backchannel.allowlist));
  const others = await Promise.all(Array.from({ length: INSTANCES - 1 }, () => startInstance(overrides)));
  const org = (await store.directory.getOrg('bench'))!;
  const user = (await store.directory.findUserByName('bench', 'u'))!;
  const redis = new Redis(REDIS_URL);
  // Redis's own time, which is what the shared clock reads once the pin is lifted (same host as
  // this process's Date.now(), so arrivals compare with the deadline directly).
  const redisNow = async () => {
    const [seconds, micros] = await redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  };
  // Every session below signs in at t0, so idles out at t0 + IDLE_MS = LEAD_MS from now.
  const t0 = (await redisNow()) + LEAD_MS - IDLE_MS;
  const deadline = t0 + IDLE_MS;
  await redis.set(`${prefix}clock:pinned`, String(t0));

  // 1. Enforcement cost.
  await curfew.sessions.recordLogin({ uid: 'probe', user, org, ip: '127.0.0.1' });
  await curfew.sessions.recordRp({ uid: 'probe', client: 'rp-a', sid: 'probe-sid' });
  const latencies: number[] = [];
  for (let i = 0; i < CHECKS; i++) {
    const start = process.hrtime.bigint();
    await curfew.sessions.check('probe', 'rp-a', 'passive');
    latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  latencies.sort((a, b) => a - b);
  await curfew.sessions.end('probe', 'logout');

  // A warm process, as a long-running instance is: BENCH_WARMUP sessions go through the same end
  // path first (ended, tokens queued, signed, posted, recorded), so the measured wave does not
  // also pay for V8 compiling it. Their tokens are not counted (the receiver is reset below).
  for (let i = 0; i < WARMUP; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, WARMUP - i) }, async (_, j) => {
      const uid = `warm${i + j}`;
      await curfew.sessions.recordLogin({ uid, user, org, ip: '127.0.0.1' });
      await curfew.sessions.recordRp({ uid, client: 'rp-a', sid: `${uid}-a` });
      await curfew.sessions.recordRp({ uid, client: 'rp-b', sid: `${uid}-b` });
      await curfew.sessions.end(uid, 'admin');
    }));
    while ((await curfew.sender.tick()) > 0);
  }

  // 2. Mass expiry.
  const setupStart = Date.now();
  const batch = 200;
  for (let i = 0; i < SESSIONS; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, SESSIONS - i) }, async (_, j) => {
      const uid = `s${i + j}`;
      await curfew.sessions.recordLogin({ uid, user, org, ip: '127.0.0.1' });
      await curfew.sessions.recordRp({ uid, client: 'rp-a', sid: `${uid}-a` });
      await curfew.sessions.recordRp({ uid, client: 'rp-b', sid: `${uid}-b` });
    }));
  }
  const setupSeconds = (Date.now() - setupStart) / 1000;
  await curfew.sender.tick(); // drain the probe's logout, if any
  await receiver.reset();
  // The clock runs again; the workers start as an instance's do, and wait for the deadline.
  await redis.del(`${prefix}clock:pinned`);
  const headroomMs = deadline - (await redisNow());
  if (headroomMs < 500) throw new Error(`setting up took longer than BENCH_LEAD_MS=${LEAD_MS} (the deadline is ${-headroomMs} ms past): raise it`);
  curfew.startWorkers();
  for (const other of others) other.send('start');
  // The profiler starts well before the deadline: starting it costs ~200 ms of this thread in a
  // warm process (V8 walks its compiled code), which must not land on the wave.
  const stopProfile = PROFILE ? (await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now() - 1500))), await profileWave(PROFILE)) : undefined;
  await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now() - 300)));
  // What the wave cost, from 300 ms before the deadline to the last arrival.
  const cpu0 = process.cpuUsage();
  // This thread's own CPU: what the event loop itself spent, unlike its busy time not inflated
  // when other processes take the cores (the machine is shared).
  const mainCpu0 = process.threadCpuUsage();
  const loop0 = performance.eventLoopUtilization();
  const redisCpu0 = await redisCpuMs(redis);
  counting = true;
  const expected = 2 * SESSIONS;
  while (receiver.received < expected && Date.now() - deadline < 600_000) await new Promise((r) => setTimeout(r, 50));
  await stopProfile?.();
  const cpu = process.cpuUsage(cpu0);
  const mainCpu = process.threadCpuUsage(mainCpu0);
  const loopBusyMs = performance.eventLoopUtilization(loop0).active;
  const redisCpu = (await redisCpuMs(redis)) - redisCpu0;
  const { arrivals, cpuMs: receiverCpuMs } = await receiver.arrivals();
  const received = arrivals.length;
  const allSeconds = (arrivals.reduce((a, b) => Math.max(a, b), 0) - deadline) / 1000;
  // Lateness of each token: from the deadline to its arrival at the RP.
  const lateness = arrivals.map((at) => at - deadline).sort((a, b) => a - b);

  // The records of the last tokens (mark, audit) follow their POSTs: counted until they are done.
  await curfew.close();
  counting = false;
  const otherCpu = await Promise.all(others.map(stopInstance));
  await store.close();
  redis.disconnect();
  await receiver.close();
  await cleanup();

  const rows = [
    ['Passive session check (1 Lua round trip), p50', `${percentile(latencies, 50).toFixed(3)} ms`],
    ['Passive session check, p99', `${percentile(latencies, 99).toFixed(3)} ms`],
    [`Set-up of ${SESSIONS} sessions × 2 RPs`, `${setupSeconds.toFixed(1)} s`],
    [`${SESSIONS} sessions × 2 RPs expiring at once: deadline → last token delivered`, `${allSeconds.toFixed(1)} s (${received}/${expected} delivered)`],
    ['Delivery throughput', `${Math.round(received / Math.max(allSeconds, 0.001))} tokens/s (${ALG})`],
    ['Lateness of a token (deadline → arrival), p50 / p99 / max', `${percentile(lateness, 50)} / ${percentile(lateness, 99)} / ${lateness.at(-1)} ms`],
    ['The wave\'s cost: Curfew\'s event loop busy / its thread\'s CPU / Curfew\'s CPU (all its threads: process CPU less the RPs\' thread) / the RPs\' thread / Redis CPU (whole server)', `${loopBusyMs.toFixed(0)} / ${((mainCpu.user + mainCpu.system) / 1000).toFixed(0)} / ${((cpu.user + cpu.system) / 1000 - receiverCpuMs).toFixed(0)} / ${receiverCpuMs.toFixed(0)} / ${redisCpu.toFixed(0)} ms`],
  ];
  console.log(`\n| Measure | Result |\n| --- | --- |\n${rows.map(([a, b]) => `| ${a} | ${b} |`).join('\n')}\n`);
  const totalCalls = [...calls.values()].reduce((a, b) => a + b, 0);
  console.log(`Store calls during the wave: ${totalCalls} (${(totalCalls / SESSIONS).toFixed(2)} per session ended, ${(totalCalls / Math.max(1, received)).toFixed(2)} per token): ${[...calls].sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} ${n}`).join(', ')}`);
  if (otherCpu.length > 0) console.log(`The other instances' CPU (process / main thread): ${otherCpu.map((c) => `${c.cpuMs.toFixed(0)} / ${c.mainCpuMs.toFixed(0)} ms`).join(', ')}; their store calls are not counted above.`);
  console.log(`Node ${process.version}, ${SESSIONS} sessions, ${CHECKS} checks, ${WARMUP} warm-up sessions, ${INSTANCES} instance${INSTANCES > 1 ? 's' : ''}, signing threads ${config.backchannel.signingThreads}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}, Redis at ${new URL(REDIS_URL).host}.`);
}

main().catch(async (err: unknown) => {
  console.error(err);
  await cleanup().catch(() => {});
  process.exit(1);
});
