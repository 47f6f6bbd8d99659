/**
 * Refresh-token grants with rotation, Curfew beside bare oidc-provider, in one run on one Redis.
 * Each chain sends a refresh grant and uses the response's refresh token for its next request,
 * as a real RP must (reusing one token measures nothing: its second use is a replay). Rounds
 * alternate between the two servers so drift on a shared machine hits both alike.
 *
 *   npm run bench:refresh       BENCH_CHAINS=8 BENCH_ROUNDS=4 BENCH_ROUND_SECONDS=10
 *
 * Both servers run as child processes (one core each at most, like production); this process
 * only drives load. Reported per server: grants/s (overall and per round), latency p50/p99, Redis
 * commands per grant (counted in the server's process by bench/servers/round-trips.ts,
 * so another client of a shared Redis does not count; round trips, which overlap between
 * concurrent grants, are bench/roundtrips.ts's), and the ratio, overall and round by round.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { Agent, request } from 'undici';
import { freePort } from '../test/support/process.ts';
import { basicAuth, machine, percentile as pct, ROOT, signIn, startBare, startCurfew, type Server } from './servers/index.ts';

const CHAINS = Number(process.env.BENCH_CHAINS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 10);
const basic = basicAuth('bench-app');

/** The server's own Redis traffic (bench/servers/round-trips.ts, preloaded): not other clients' of a shared Redis. */
async function redisCounts(counter: string): Promise<{ roundTrips: number; commands: number; cpuMicros: number }> {
  return (await (await fetch(counter)).json()) as { roundTrips: number; commands: number; cpuMicros: number };
}

interface RoundResult {
  grants: number;
  failures: number;
  seconds: number;
  latenciesMs: number[];
  redisCommands: number;
  /** The server process's CPU time over the round (user + system), ms. */
  cpuMs: number;
}

/** CHAINS chains of rotating refresh grants for ROUND_SECONDS; tokens carry over to the next round. */
async function round(server: Server, tokens: string[], counter: string, agent: Agent): Promise<RoundResult> {
  const latenciesMs: number[] = [];
  let failures = 0;
  const before = await redisCounts(counter);
  const started = performance.now();
  const until = started + ROUND_SECONDS * 1000;
  await Promise.all(tokens.map(async (_, i) => {
    while (performance.now() < until) {
      const t0 = performance.now();
      const res = await request(`${server.url}/token`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
        body: `grant_type=refresh_token&refresh_token=${encodeURIComponent(tokens[i]!)}`,
      });
      const body = (await res.body.json()) as { refresh_token?: string };
      if (res.statusCode !== 200 || !body.refresh_token) {
        failures++;
        throw new Error(`${server.name}: refresh failed (${res.statusCode}): ${JSON.stringify(body)}`);
      }
      tokens[i] = body.refresh_token;
      latenciesMs.push(performance.now() - t0);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const after = await redisCounts(counter);
  return { grants: latenciesMs.length, failures, seconds, latenciesMs, redisCommands: after.commands - before.commands, cpuMs: (after.cpuMicros - before.cpuMicros) / 1000 };
}


async function main(): Promise<void> {
  // BENCH_CPU_PROF=dir: both servers write a V8 CPU profile there when they stop (issue 14: profile first).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const preload = ['--import', './bench/servers/round-trips.ts'];
  const ports = [await freePort(), await freePort()] as const;
  const servers = [
    await startCurfew({ nodeArgs: [...profile, ...preload], env: { BENCH_RTT_PORT: String(ports[0]) } }),
    await startBare({ nodeArgs: [...profile, ...preload], env: { BENCH_RTT_PORT: String(ports[1]) } }),
  ];
  const counters = new Map(servers.map((s, i) => [s, `http://127.0.0.1:${ports[i]}/`]));
  const agent = new Agent({ connections: CHAINS, keepAliveTimeout: 30_000 });
  try {
    const tokens = new Map<Server, string[]>();
    // One after another: parallel sign-ins of one account are held to its attempt limit.
    for (const s of servers) {
      const list: string[] = [];
      for (let i = 0; i < CHAINS; i++) list.push((await signIn(s, 'bench-app', { username: `bench${s.name === 'bare' ? i : ''}`, password: 'bench password 1' })).tokens.refresh_token);
      tokens.set(s, list);
    }
    const totals = new Map<Server, RoundResult & { rounds: number[] }>();
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? servers : [...servers].reverse();
      for (const s of order) {
        const res = await round(s, tokens.get(s)!, counters.get(s)!, agent);
        const t = totals.get(s) ?? { grants: 0, failures: 0, seconds: 0, latenciesMs: [], redisCommands: 0, cpuMs: 0, rounds: [] as number[] };
        totals.set(s, { grants: t.grants + res.grants, failures: t.failures + res.failures, seconds: t.seconds + res.seconds, latenciesMs: t.latenciesMs.concat(res.latenciesMs), redisCommands: t.redisCommands + res.redisCommands, cpuMs: t.cpuMs + res.cpuMs, rounds: [...t.rounds, res.grants / res.seconds] });
        process.stderr.write(`round ${r + 1} ${s.name}: ${(res.grants / res.seconds).toFixed(0)} grants/s\n`);
      }
    }
    const rows = servers.map((s) => {
      const t = totals.get(s)!;
      const sorted = [...t.latenciesMs].sort((a, b) => a - b);
      return { server: s.name, grantsPerSecond: t.grants / t.seconds, p50Ms: pct(sorted, 50), p99Ms: pct(sorted, 99), redisCommandsPerGrant: t.redisCommands / t.grants, cpuMsPerGrant: t.cpuMs / t.grants, grants: t.grants, failures: t.failures, perRound: t.rounds.map(Math.round) };
    });
    const [curfew, bare] = rows as [typeof rows[0], typeof rows[0]];
    // Rounds alternate: round r of each server ran next to each other, under the same machine load.
    const roundRatios = curfew.perRound.map((c, r) => c / bare.perRound[r]!);
    const result = { machine: machine(), load: loadavg().map((l) => Number(l.toFixed(2))), chains: CHAINS, rounds: ROUNDS, roundSeconds: ROUND_SECONDS, rows, ratio: curfew.grantsPerSecond / bare.grantsPerSecond, roundRatios };
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/refresh.json'), JSON.stringify(result, null, 2) + '\n');
    process.stdout.write([
      `Refresh grants with rotation, ${CHAINS} chains, ${ROUNDS} alternating rounds of ${ROUND_SECONDS} s (${result.machine})`,
      '',
      '| Server | grants/s | per round | p50 | p99 | server CPU / grant | Redis commands / grant (a MULTI\'s each) |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows.map((r) => `| ${r.server === 'bare' ? 'bare oidc-provider 9' : 'Curfew'} | ${r.grantsPerSecond.toFixed(0)} | ${r.perRound.join(', ')} | ${r.p50Ms.toFixed(1)} ms | ${r.p99Ms.toFixed(1)} ms | ${r.cpuMsPerGrant.toFixed(2)} ms | ${r.redisCommandsPerGrant.toFixed(1)} |`),
      '',
      `Curfew / bare: ${result.ratio.toFixed(2)}× (round by round: ${roundRatios.map((x) => x.toFixed(2)).join(', ')}; load average ${result.load.join(' ')})`,
      '',
    ].join('\n'));
  } finally {
    await agent.close();
    for (const s of servers) await s.stop();
  }
}

await main();
