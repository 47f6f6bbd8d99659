/**
 * Refresh-token grants with rotation, Curfew beside bare oidc-provider, in one run on one Redis.
 * Each chain sends a refresh grant and uses the response's refresh token for its next request,
 * as a real RP must (reusing one token measures nothing: its second use is a replay). Rounds
 * alternate between the two servers so drift on a shared machine hits both alike.
 *
 *   npm run bench:refresh       BENCH_CHAINS=8 BENCH_ROUNDS=4 BENCH_ROUND_SECONDS=10
 *
 * Both servers run as child processes (one core each at most, like production); this process
 * only drives load. Reported per server: grants/s, latency p50/p99, Redis commands per grant
 * (INFO commandstats over the round, so every instance's own traffic counts), and the ratio.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import * as oidc from 'openid-client';
import { Agent, request } from 'undici';
import { freePort } from '../test/support/process.ts';
import { deletePrefix } from '../test/support/redis.ts';
import { UserAgent } from '../test/support/user-agent.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CHAINS = Number(process.env.BENCH_CHAINS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 10);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLIENT = { id: 'bench-app', secret: 'bench-app-secret-0123456789', redirect: 'https://rp.example/cb' };

interface Server {
  name: 'curfew' | 'bare';
  url: string;
  child: ChildProcess;
  prefix: string;
}

function start(name: Server['name'], args: string[], env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${out}`)), 30_000);
    const check = (d: Buffer) => {
      out += String(d);
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${out}`)));
  });
}

async function startCurfew(): Promise<Server> {
  const port = await freePort();
  const prefix = `curfew-bench-refresh-${process.pid}:`;
  const dir = mkdtempSync(join(tmpdir(), 'curfew-bench-'));
  const seedFile = join(dir, 'seed.json');
  writeFileSync(seedFile, JSON.stringify({
    orgs: [{
      id: 'bench', name: 'Bench',
      policy: { idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 43200, warningSeconds: 120, mfa: 'off' },
      users: [{ username: 'bench', password: 'bench password 1', roles: [] }],
      clients: [{ client_id: CLIENT.id, client_secret: CLIENT.secret, redirect_uris: [CLIENT.redirect] }],
    }],
  }));
  const url = `http://127.0.0.1:${port}`;
  // BENCH_CPU_PROF=dir: Curfew writes a V8 CPU profile there when it stops (issue 14: profile first).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const child = await start('curfew', [...profile, 'src/main.ts'], { PORT: String(port), ISSUER: url, REDIS_URL, CURFEW_REDIS_PREFIX: prefix, CURFEW_SEED: seedFile, LOG_LEVEL: 'info' }, /Curfew is serving/);
  return { name: 'curfew', url, child, prefix };
}

async function startBare(): Promise<Server> {
  const port = await freePort();
  const prefix = `bare-bench-refresh-${process.pid}:`;
  const child = await start('bare', ['bench/servers/bare-provider.ts'], { PORT: String(port), REDIS_URL, BENCH_PREFIX: prefix }, /listening/);
  return { name: 'bare', url: `http://127.0.0.1:${port}`, child, prefix };
}

/** A real sign-in through the server's own forms, as a browser; returns the first refresh token. */
async function signIn(server: Server): Promise<string> {
  const verifier = oidc.randomPKCECodeVerifier();
  const auth = new URL(`${server.url}/auth`);
  auth.search = new URLSearchParams({
    client_id: CLIENT.id, response_type: 'code', scope: 'openid', redirect_uri: CLIENT.redirect,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', prompt: 'consent',
  }).toString();
  const ua = new UserAgent(server.url);
  let page = await ua.navigate(auth.href);
  if (server.name === 'curfew') {
    page = await ua.submit(page, '/login', { username: 'bench', password: 'bench password 1' });
    if (!page.leftTo && /\/confirm"/.test(page.html)) page = await ua.submit(page, '/confirm');
  } else {
    // The library's dev interactions: a login form, then a consent form, both posting to the interaction's own URL.
    for (let step = 0; step < 3 && !page.leftTo; step++) {
      const here = new URL(page.url).pathname;
      page = await ua.submit(page, here, /name="login"/.test(page.html) ? { login: `bench-${step}-${Math.random()}`, password: 'x' } : {});
    }
  }
  if (!page.leftTo) throw new Error(`${server.name}: sign-in did not finish (${page.status}): ${page.html.slice(0, 300)}`);
  const code = new URL(page.leftTo).searchParams.get('code')!;
  const res = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CLIENT.redirect, code_verifier: verifier }),
  });
  const body = (await res.json()) as { refresh_token?: string };
  if (!body.refresh_token) throw new Error(`${server.name}: no refresh token: ${JSON.stringify(body)}`);
  return body.refresh_token;
}

const basic = `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`;

async function redisCommands(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let total = 0;
  for (const m of info.matchAll(/calls=(\d+)/g)) total += Number(m[1]);
  return total;
}

interface RoundResult {
  grants: number;
  failures: number;
  seconds: number;
  latenciesMs: number[];
  redisCommands: number;
}

/** CHAINS chains of rotating refresh grants for ROUND_SECONDS; tokens carry over to the next round. */
async function round(server: Server, tokens: string[], redis: Redis, agent: Agent): Promise<RoundResult> {
  const latenciesMs: number[] = [];
  let failures = 0;
  const before = await redisCommands(redis);
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
  return { grants: latenciesMs.length, failures, seconds, latenciesMs, redisCommands: (await redisCommands(redis)) - before };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function main(): Promise<void> {
  const redis = new Redis(REDIS_URL);
  const servers = [await startCurfew(), await startBare()];
  const agent = new Agent({ connections: CHAINS, keepAliveTimeout: 30_000 });
  try {
    const tokens = new Map<Server, string[]>();
    // One after another: parallel sign-ins of one account are held to its attempt limit.
    for (const s of servers) {
      const list: string[] = [];
      for (let i = 0; i < CHAINS; i++) list.push(await signIn(s));
      tokens.set(s, list);
    }
    const totals = new Map<Server, RoundResult>();
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? servers : [...servers].reverse();
      for (const s of order) {
        const res = await round(s, tokens.get(s)!, redis, agent);
        const t = totals.get(s) ?? { grants: 0, failures: 0, seconds: 0, latenciesMs: [], redisCommands: 0 };
        totals.set(s, { grants: t.grants + res.grants, failures: t.failures + res.failures, seconds: t.seconds + res.seconds, latenciesMs: t.latenciesMs.concat(res.latenciesMs), redisCommands: t.redisCommands + res.redisCommands });
        process.stderr.write(`round ${r + 1} ${s.name}: ${(res.grants / res.seconds).toFixed(0)} grants/s\n`);
      }
    }
    const rows = servers.map((s) => {
      const t = totals.get(s)!;
      const sorted = [...t.latenciesMs].sort((a, b) => a - b);
      return { server: s.name, grantsPerSecond: t.grants / t.seconds, p50Ms: pct(sorted, 50), p99Ms: pct(sorted, 99), redisCommandsPerGrant: t.redisCommands / t.grants, grants: t.grants, failures: t.failures };
    });
    const [curfew, bare] = rows as [typeof rows[0], typeof rows[0]];
    const result = { machine: machine(), chains: CHAINS, rounds: ROUNDS, roundSeconds: ROUND_SECONDS, rows, ratio: curfew.grantsPerSecond / bare.grantsPerSecond };
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/refresh.json'), JSON.stringify(result, null, 2) + '\n');
    process.stdout.write([
      `Refresh grants with rotation, ${CHAINS} chains, ${ROUNDS} alternating rounds of ${ROUND_SECONDS} s (${result.machine})`,
      '',
      '| Server | grants/s | p50 | p99 | Redis commands / grant (inside scripts and MULTI included) |',
      '| --- | --- | --- | --- | --- |',
      ...rows.map((r) => `| ${r.server === 'bare' ? 'bare oidc-provider 9' : 'Curfew'} | ${r.grantsPerSecond.toFixed(0)} | ${r.p50Ms.toFixed(1)} ms | ${r.p99Ms.toFixed(1)} ms | ${r.redisCommandsPerGrant.toFixed(1)} |`),
      '',
      `Curfew / bare: ${result.ratio.toFixed(2)}×`,
      '',
    ].join('\n'));
  } finally {
    await agent.close();
    for (const s of servers) {
      const exited = new Promise((r) => s.child.once('exit', r));
      s.child.kill('SIGTERM');
      await exited;
      await deletePrefix(s.prefix);
    }
    redis.disconnect();
  }
}

function machine(): string {
  return `${process.platform} ${process.arch}, ${(globalThis.navigator?.hardwareConcurrency ?? 0) || 'n'} cores, Node ${process.versions.node}`;
}

await main();
