/**
 * `npm run soak [-- --minutes N | --short] [--seed S] [--out report.json]`
 *
 * Curfew measured from outside, on loopback only: its own redis-server (AOF, everysec) on a free
 * port, two instances of `node src/main.ts` behind a loopback balancer (one issuer), back-channel
 * receivers that verify every logout token, and users signing in, refreshing, reporting activity,
 * asking status, logging out and going idle together (idle limit 60 s), under a fault schedule:
 * Redis killed -9 and restarted on its AOF (at random and just after a wave's first deadline), an
 * instance SIGKILLed and restarted (also just after a wave's first deadline), receivers answering
 * 503 then coming back, a receiver answering 400 (dead letters) followed by an admin retry.
 * Traffic runs for N minutes (default 10; --short: 2), then the soak drains: every session it
 * obtained must end, be announced to its RP and be refused after its deadline. Bounded: the drain
 * stops after the idle limit + 150 s. Exits 1 when a must-be-zero figure is not zero.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Balancer, CurfewInstance, freePort, killAll, RedisServer, redisAnswers, sleep } from './processes.ts';
import { Receiver } from './receivers.ts';
import { buildReport, formatReport, type FaultWindow } from './report.ts';
import { CALLBACK, LOGGED_OUT, Traffic, type RpSession, type VirtualUser } from './traffic.ts';

const IDLE_SECONDS = 60;
const ABSOLUTE_SECONDS = 300;
const USERS = 30;
const ORG = 'soak';

const { values } = parseArgs({ options: { minutes: { type: 'string' }, short: { type: 'boolean' }, seed: { type: 'string' }, out: { type: 'string' }, keep: { type: 'boolean' } } });
const minutes = values.short ? 2 : Number(values.minutes ?? 10);
if (!Number.isFinite(minutes) || minutes < 1 || minutes > 120) throw new Error('--minutes must be between 1 and 120');
const seedValue = Number(values.seed ?? Date.now() % 1_000_000);

/** mulberry32: the schedule and the traffic's choices are reproducible from --seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(seedValue);
/** The fault schedule draws from its own sequence, so the traffic's timing cannot change it. */
const faultRandom = prng(seedValue ^ 0x5eed);
const between = (lo: number, hi: number) => lo + random() * (hi - lo);
const faultBetween = (lo: number, hi: number) => lo + faultRandom() * (hi - lo);
const log = (msg: string) => process.stderr.write(`[soak ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);

const dir = mkdtempSync(join(tmpdir(), 'curfew-soak-'));
const cleanups: Array<() => Promise<unknown>> = [];
let exiting = false;
process.on('exit', () => {
  killAll();
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping every child`);
    killAll();
    process.exit(130);
  });
}

async function main(): Promise<number> {
  const [redisPort, lbPort, portA, portB] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const issuer = `http://127.0.0.1:${lbPort}`;
  const redis = new RedisServer(redisPort, dir);
  await redis.start();
  cleanups.push(() => redis.stop());

  const clients = ['rp-a', 'rp-b', 'rp-c'];
  const receivers = new Map(clients.map((c) => [c, new Receiver(c, issuer, `${issuer}/jwks`)]));
  for (const r of receivers.values()) await r.start();
  cleanups.push(async () => Promise.all([...receivers.values()].map((r) => r.close())));

  const secrets: Record<string, string> = Object.fromEntries([...clients, 'soak-admin'].map((c) => [c, `${c}-soak-secret-0123456789`]));
  const passwords = new Map(Array.from({ length: USERS }, (_, i) => [`user${String(i).padStart(2, '0')}`, `soak password ${i} of the long kind`]));
  const seedFile = join(dir, 'seed.json');
  writeFileSync(seedFile, JSON.stringify({
    orgs: [{
      id: ORG, name: 'Soak',
      policy: { idleTimeoutSeconds: IDLE_SECONDS, absoluteTimeoutSeconds: ABSOLUTE_SECONDS, warningSeconds: 20, mfa: 'off' },
      users: [...passwords].map(([username, password]) => ({ username, password, roles: [] })),
      clients: [
        ...clients.map((c) => ({
          client_id: c, client_secret: secrets[c], redirect_uris: [CALLBACK], post_logout_redirect_uris: [LOGGED_OUT],
          backchannel_logout_uri: receivers.get(c)!.uri, backchannel_logout_session_required: true,
        })),
        { client_id: 'soak-admin', client_secret: secrets['soak-admin'], redirect_uris: [CALLBACK], adminApi: true },
      ],
    }],
  }));

  const env = {
    ISSUER: issuer, REDIS_URL: redis.url, CURFEW_REDIS_PREFIX: 'soak:', CURFEW_SEED: seedFile, LOG_LEVEL: 'info',
    CURFEW_BACKCHANNEL_ALLOWLIST: [...receivers.values()].map((r) => new URL(r.uri).origin).join(','),
  };
  const instances = [new CurfewInstance('instance-a', portA, env, dir), new CurfewInstance('instance-b', portB, env, dir)];
  const balancer = new Balancer(lbPort, [portA, portB]);
  await balancer.start();
  cleanups.push(() => balancer.close());
  const windows: FaultWindow[] = [];
  let unexpectedExits = 0;
  const restartAfterCrash = (instance: CurfewInstance) => () => {
    unexpectedExits++;
    balancer.setUp(instance.port, false);
    const w: FaultWindow = { kind: 'instance exited by itself', detail: instance.name, start: Date.now(), recovered: undefined };
    windows.push(w);
    log(`${instance.name} exited by itself; starting it again (see ${instance.logFile})`);
    if (exiting) return;
    void instance.start(restartAfterCrash(instance)).then(() => {
      balancer.setUp(instance.port, true);
      w.recovered = Date.now();
    }, (err: unknown) => log(`${instance.name} could not start again: ${String(err)}`));
  };
  for (const instance of instances) {
    await instance.start(restartAfterCrash(instance));
    cleanups.push(() => instance.stop());
  }
  log(`redis :${redisPort}, instances :${portA} :${portB}, balancer ${issuer}, ${minutes} min, seed ${seedValue}, dir ${dir}`);

  const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json() as Record<string, string>;
  if (discovery.jwks_uri !== `${issuer}/jwks`) throw new Error(`unexpected jwks_uri ${discovery.jwks_uri}`);
  const traffic = new Traffic({ issuer, authorization: discovery.authorization_endpoint!, token: discovery.token_endpoint!, endSession: discovery.end_session_endpoint! }, secrets, passwords, random);
  const owner = new Map<RpSession, VirtualUser>();

  // ---- faults ----------------------------------------------------------------------------
  async function recovered(extra: () => Promise<boolean> = async () => true): Promise<number | undefined> {
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      const ready = await Promise.all(instances.map((i) => (i.running ? i.ready(1000) : Promise.resolve(0))));
      if ((await redisAnswers(redis.port)) && ready.every((s) => s === 200) && (await extra())) return Date.now();
      await sleep(100);
    }
    return undefined;
  }
  let faultChain = Promise.resolve();
  /** Store and instance faults run one at a time, so each outage window has one cause. */
  const serial = (fn: () => Promise<void>) => (faultChain = faultChain.then(fn, fn));

  async function restartRedis(detail: string, downMs: number): Promise<void> {
    const w: FaultWindow = { kind: 'redis kill -9', detail: `${detail}, down ${Math.round(downMs)} ms`, start: Date.now(), recovered: undefined };
    windows.push(w);
    log(`fault: redis kill -9 (${w.detail})`);
    await redis.kill9();
    await sleep(downMs);
    await redis.restart();
    w.recovered = await recovered();
  }
  async function killInstance(detail: string, downMs: number): Promise<void> {
    const instance = instances[Math.floor(faultRandom() * instances.length)]!;
    const w: FaultWindow = { kind: 'instance SIGKILL', detail: `${instance.name} ${detail}, down ${Math.round(downMs)} ms`, start: Date.now(), recovered: undefined };
    windows.push(w);
    log(`fault: SIGKILL ${w.detail}`);
    balancer.setUp(instance.port, false);
    await instance.kill9();
    await sleep(downMs);
    await instance.start(restartAfterCrash(instance));
    balancer.setUp(instance.port, true);
    w.recovered = await recovered();
  }

  let adminToken: { value: string; until: number } | undefined;
  async function admin(kind: string, path: string, method = 'GET') {
    if (!adminToken || adminToken.until < Date.now()) {
      const t = await traffic.call('admin token', discovery.token_endpoint!, {
        form: { grant_type: 'client_credentials', scope: 'admin' },
        auth: `Basic ${Buffer.from(`soak-admin:${secrets['soak-admin']}`).toString('base64')}`,
      });
      if (t.status !== 200 || typeof t.json?.access_token !== 'string') return undefined;
      adminToken = { value: t.json.access_token, until: Date.now() + 60_000 };
    }
    return traffic.call(kind, `${issuer}/admin/api/v1/orgs/${ORG}${path}`, { method, auth: `Bearer ${adminToken.value}` });
  }
  let retriedByAdmin = 0;
  async function retryDeadLetters(): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const list = await admin('admin list dead', '/deliveries?state=dead');
      const dead = list?.status === 200 ? (list.json?.deliveries as Array<{ id: string }> | undefined) : undefined;
      if (!dead) {
        await sleep(1000);
        continue;
      }
      for (const d of dead) {
        const r = await admin('admin retry', `/deliveries/${encodeURIComponent(d.id)}/retry`, 'POST');
        if (r && r.status < 300) retriedByAdmin++;
      }
      log(`admin: ${dead.length} dead letters retried`);
      return;
    }
  }

  const startedAt = Date.now();
  const trafficEnd = startedAt + minutes * 60_000;
  const at = (ms: number, fn: () => Promise<void> | void) => {
    const timer = setTimeout(() => void Promise.resolve(fn()).catch((err: unknown) => log(`fault failed: ${String(err)}`)), ms);
    cleanups.push(async () => clearTimeout(timer));
  };
  const span = minutes * 60_000;
  const randomTime = () => faultBetween(20_000, Math.max(25_000, span - 20_000));

  // Random store restarts, one of them long in a full run; one random instance kill per 5 minutes.
  const redisFaults = Math.max(1, Math.floor(minutes / 3));
  for (let i = 0; i < redisFaults; i++) {
    const down = i === 0 && minutes >= 5 ? 20_000 : faultBetween(300, 8000);
    at(randomTime(), () => serial(() => restartRedis('at random', down)));
  }
  for (let i = 0; i < Math.max(1, Math.floor(minutes / 5)); i++) {
    const down = faultBetween(1000, 5000);
    at(randomTime(), () => serial(() => killInstance('at random', down)));
  }
  // Receivers: rp-a then rp-b answer 503 for 15 s; rp-c answers 400 for 12 s, and an admin retries its dead letters after.
  for (const c of ['rp-a', 'rp-b']) {
    at(randomTime(), async () => {
      log(`fault: receiver ${c} answers 503 for 15 s`);
      receivers.get(c)!.mode = 'down';
      await sleep(15_000);
      receivers.get(c)!.mode = 'ok';
    });
  }
  at(randomTime(), async () => {
    log('fault: receiver rp-c answers 400 for 12 s');
    receivers.get('rp-c')!.mode = 'reject';
    await sleep(12_000);
    receivers.get('rp-c')!.mode = 'ok';
    await sleep(10_000);
    await retryDeadLetters();
  });

  // ---- traffic ---------------------------------------------------------------------------
  const names = [...passwords.keys()];
  const background = minutes <= 2 ? 12 : 20;
  let signInsStarted = 0;
  const maxSignIns = minutes * 120;

  async function signIn(user: VirtualUser): Promise<void> {
    const wanted = ['rp-a', 'rp-b', ...(random() < 0.5 ? ['rp-c'] : [])];
    for (const client of wanted) {
      const rp = await traffic.signInRp(user, client);
      if (rp) owner.set(rp, user);
      else if (user.rps.length === 0) break;
    }
    if (user.rps.length === 0) {
      user.state = 'ended';
      return;
    }
    await Promise.all(user.rps.map((rp) => traffic.status(rp)));
    user.state = 'active';
  }
  function startUser(activeForMs: number, logoutAtEnd: boolean, cohort?: number): VirtualUser {
    signInsStarted++;
    const user = traffic.newUser(names[Math.floor(random() * names.length)]!, activeForMs, logoutAtEnd, cohort);
    void signIn(user).catch((err: unknown) => log(`sign-in failed: ${String(err)}`)).finally(() => (user.busy = false));
    return user;
  }
  /** A last passive status per session, retried through outages: it learns the deadline Curfew holds. */
  async function goIdle(user: VirtualUser): Promise<void> {
    user.state = 'idle';
    await Promise.all(user.rps.map(async (rp) => {
      for (let i = 0; i < 20; i++) {
        const a = await traffic.status(rp);
        if (a.status === 200) return;
        await sleep(1000);
      }
    }));
  }
  async function step(user: VirtualUser): Promise<void> {
    const now = Date.now();
    if (user.cohort === undefined && now >= user.activeUntil) {
      if (user.logoutAtEnd) {
        user.state = 'ended';
        if ((await traffic.logout(user)) !== 'ok') await goIdle(user).then(() => (user.state = 'ended'));
      } else await goIdle(user);
      return;
    }
    const rp = user.rps[Math.floor(random() * user.rps.length)]!;
    const r = random();
    let answer;
    if (now - rp.lastActivitySentAt > 20_000 || (r >= 0.4 && r < 0.65)) answer = await traffic.activity(rp);
    else if (r < 0.4) answer = await traffic.status(rp);
    else answer = (await traffic.refresh(rp)) ?? (await traffic.status(rp));
    // Curfew says the session is over: the user stops (the report judges whether it was right to).
    if ((answer.status === 200 && answer.json?.active === false) || answer.json?.error === 'invalid_grant') {
      if (user.cohort === undefined) await goIdle(user);
    }
    user.nextAt = Date.now() + between(1000, 4000);
  }

  // Expiry waves: a cohort signs in, stays active, then reports its last activity all at once.
  const waveSize = minutes <= 2 ? 20 : 30;
  let waveNo = 0;
  async function wave(): Promise<void> {
    const n = waveNo++;
    const cohort = Array.from({ length: waveSize }, () => startUser(0, false, n));
    log(`wave ${n}: ${waveSize} users signing in`);
    await sleep(25_000);
    for (let i = 0; i < 100 && cohort.some((u) => u.busy); i++) await sleep(100);
    for (const u of cohort) u.busy = true;
    const live = cohort.filter((u) => u.state === 'active');
    await Promise.all(live.flatMap((u) => u.rps.map((rp) => traffic.activity(rp))));
    await Promise.all(live.map((u) => goIdle(u)));
    const deadlines = live.flatMap((u) => u.rps.map((rp) => rp.deadline)).filter((d): d is number => d !== undefined);
    if (!deadlines.length) return;
    const first = Math.min(...deadlines);
    log(`wave ${n}: ${deadlines.length} RP sessions expire from ${new Date(first).toISOString().slice(11, 23)}`);
    // The fault lands on the wave: the store or an instance dies just after the first end.
    const kind = n % 2 === 0 ? 'redis' : 'instance';
    const offset = kind === 'redis' ? faultBetween(0, 1500) : faultBetween(3, 300);
    const down = kind === 'redis' ? faultBetween(200, 3000) : faultBetween(1000, 4000);
    await sleep(Math.max(0, first - Date.now() + offset));
    await serial(() => (kind === 'redis' ? restartRedis(`wave ${n} +${Math.round(offset)} ms`, down) : killInstance(`wave ${n} +${Math.round(offset)} ms`, down)));
  }
  for (let t = 15_000; t + 30_000 < span; t += 110_000) at(t, wave);

  let probing = false;
  async function probe(): Promise<void> {
    if (probing) return;
    probing = true;
    try {
      const now = Date.now();
      const due = [...traffic.sessions.values()].filter((rp) => {
        const end = Traffic.endOf(rp);
        const state = owner.get(rp)?.state;
        return rp.probe === 'pending' && rp.inflight === 0 && (state === 'idle' || state === 'ended') && end !== undefined && now >= end + 250;
      }).slice(0, 24);
      await Promise.all(due.map(async (rp) => {
        const end = Traffic.endOf(rp)!;
        rp.probeTries++;
        const s = await traffic.status(rp, 'probe status');
        let settled = s.status === 200;
        if (s.status === 200 && s.json?.active === true) traffic.stats.alivePastDeadline.push({ at: Date.now(), kind: 'status', sid: rp.sid, end });
        const r = await traffic.refresh(rp, 'probe refresh');
        if (r) {
          if (r.status === 200) traffic.stats.alivePastDeadline.push({ at: Date.now(), kind: 'refresh', sid: rp.sid, end });
          if (r.status === 0 || r.status >= 500) settled = false;
        }
        if (settled) rp.probe = 'done';
        else if (rp.probeTries >= 10) rp.probe = 'gave-up';
      }));
    } finally {
      probing = false;
    }
  }

  // The loop: bounded by the clock and by a sign-in budget.
  while (Date.now() < trafficEnd) {
    const activeBackground = traffic.users.filter((u) => u.cohort === undefined && (u.state === 'active' || u.state === 'signing-in')).length;
    if (activeBackground < background && signInsStarted < maxSignIns) startUser(between(10_000, 120_000), random() < 0.35);
    for (const user of traffic.users) {
      if (user.state === 'active' && !user.busy && user.nextAt <= Date.now()) {
        user.busy = true;
        void step(user).catch((err: unknown) => log(`step failed: ${String(err)}`)).finally(() => (user.busy = false));
      }
    }
    void probe();
    await sleep(100);
  }

  // ---- drain -------------------------------------------------------------------------------
  log(`traffic over; draining (up to ${IDLE_SECONDS + 150} s)`);
  await faultChain;
  for (const r of receivers.values()) r.mode = 'ok';
  for (let i = 0; i < 300 && traffic.users.some((u) => u.busy); i++) await sleep(100);
  await Promise.all(traffic.users.filter((u) => u.state === 'active' || u.state === 'signing-in').map((u) => goIdle(u)));
  const arrivals = () => [...receivers.values()].flatMap((r) => r.arrivals);
  const drainEnd = Date.now() + (IDLE_SECONDS + 150) * 1000;
  let retriedAtDrain = false;
  while (Date.now() < drainEnd) {
    await probe();
    const got = new Set(arrivals().filter((a) => a.answered === 200).map((a) => `${a.client} ${a.sid}`));
    const missing = [...traffic.sessions.values()].filter((rp) => !got.has(`${rp.client} ${rp.sid}`));
    const unprobed = [...traffic.sessions.values()].filter((rp) => rp.probe === 'pending');
    if (!missing.length && !unprobed.length) break;
    // Dead letters left from the 400 phase (a retry that ran during an outage) get one more admin retry.
    if (!retriedAtDrain && Date.now() > drainEnd - 90_000) {
      retriedAtDrain = true;
      await retryDeadLetters();
    }
    await sleep(500);
  }
  const pending = await admin('admin list pending', '/deliveries?state=pending');
  const endedAt = Date.now();
  exiting = true;

  // What the instances logged at error level (pino level >= 50), by message: the soak's view of Curfew's own complaints.
  const errorsLogged: Record<string, number> = {};
  for (const instance of instances) {
    if (!existsSync(instance.logFile)) continue;
    for (const line of readFileSync(instance.logFile, 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string; component?: string };
        const key = `${entry.component ?? 'http'}: ${entry.msg ?? '?'}`;
        if ((entry.level ?? 0) >= 50) errorsLogged[key] = (errorsLogged[key] ?? 0) + 1;
      } catch {
        // a line cut by SIGKILL
      }
    }
  }
  const report = buildReport({
    minutes, seed: seedValue, startedAt, endedAt, stats: traffic.stats, sessions: [...traffic.sessions.values()], arrivals: arrivals(),
    invalid: [...receivers.values()].reduce((n, r) => n + r.invalid.length, 0), windows, retriedByAdmin, unexpectedExits, errorsLogged,
  });
  const out = values.out ?? join(tmpdir(), `curfew-soak-report-${process.pid}.json`);
  writeFileSync(out, JSON.stringify({ ...report, pendingDeliveriesAtEnd: (pending?.json?.deliveries as unknown[] | undefined)?.length ?? null, redisRestarts: redis.restarts }, null, 2));
  process.stdout.write(`${formatReport(report)}\n\nReport: ${out}\n`);
  return report.passed ? 0 : 1;
}

main()
  .then(async (code) => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
    killAll();
    process.exit(code);
  })
  .catch((err: unknown) => {
    log(`soak failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    killAll();
    process.exit(2);
  });
