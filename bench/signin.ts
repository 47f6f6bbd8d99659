/**
 * Sign-ins per second, three ways:
 *  1. SSO with a live session: authorize → code → token for a browser already signed in
 *     (what every app visit after the first costs), Curfew beside bare oidc-provider 9;
 *  2. password sign-ins (Curfew; argon2id 19 MiB, 2 passes, 1 lane — src/accounts/passwords.ts);
 *  3. password + TOTP sign-ins (Curfew, policy mfa "always"; each user signs in at most once per
 *     30 s step, since a code is accepted once).
 * Each runs BENCH_CHAINS concurrent loops for BENCH_SECONDS.
 *
 *   npm run bench:signin
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { totpCode } from '../src/mfa/totp.ts';
import { UserAgent } from '../test/support/user-agent.ts';
import { authorizationRequest, machine, passForms, percentile, redeem, ROOT, signIn, startBare, startCurfew, type Server } from './servers/index.ts';

const CHAINS = Number(process.env.BENCH_CHAINS ?? 8);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PASSWORD = 'bench password 1';
const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

interface Row { what: string; server: string; perSecond: number; p50Ms: number; p99Ms: number; n: number }

/** `once` answers false when it has nothing left to do (a pool of users used up): its chain stops. */
async function loop(what: string, server: string, chains: number, once: (chain: number) => Promise<boolean | void>): Promise<Row> {
  const latencies: number[] = [];
  const started = performance.now();
  const until = started + SECONDS * 1000;
  await Promise.all(Array.from({ length: chains }, async (_, chain) => {
    while (performance.now() < until) {
      const t0 = performance.now();
      if ((await once(chain)) === false) return;
      latencies.push(performance.now() - t0);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { what, server, perSecond: latencies.length / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), n: latencies.length };
}

async function ssoWithLiveSession(server: Server): Promise<Row> {
  const browsers: UserAgent[] = [];
  for (let i = 0; i < CHAINS; i++) browsers.push((await signIn(server, 'bench-app', { username: server.name === 'curfew' ? 'bench' : `bench${i}`, password: PASSWORD })).ua);
  return loop('SSO sign-in with a live session (authorize → code → token)', server.name, CHAINS, async (chain) => {
    const ua = browsers[chain]!;
    const request = await authorizationRequest(server, 'bench-app');
    await redeem(server, 'bench-app', await passForms(server, ua, request.url, { username: 'bench', password: PASSWORD }), request.verifier);
  });
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const users = Array.from({ length: 16 }, (_, i) => ({ username: `user${i}`, password: PASSWORD }));
  let servers: Server[] = [await startCurfew({ users: [{ username: 'bench', password: PASSWORD }, ...users] }), await startBare()];
  try {
    for (const s of servers) rows.push(await ssoWithLiveSession(s));
    const curfew = servers[0]!;
    let next = 0;
    rows.push(await loop('password sign-in (argon2id 19 MiB, t=2, p=1)', 'curfew', CHAINS, async () => {
      const user = users[next++ % users.length]!;
      await signIn(curfew, 'bench-app', user);
    }));
  } finally {
    for (const s of servers) await s.stop();
  }

  // Password + TOTP: every user enrolled (seed totpSecret), TOTP asked at every sign-in.
  const enrolled = Array.from({ length: 300 }, (_, i) => ({ username: `mfa${i}`, password: PASSWORD, totpSecret: TOTP_SECRET }));
  servers = [await startCurfew({ users: enrolled, policy: { idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 43200, warningSeconds: 120, mfa: 'always' } })];
  try {
    const curfew = servers[0]!;
    let next = 0;
    rows.push(await loop('password + TOTP sign-in', 'curfew', CHAINS, async () => {
      // A code is accepted once per user and step: a fast machine may use the pool up before
      // BENCH_SECONDS; the rate is then over the time it took.
      const user = enrolled[next++];
      if (!user) return false;
      const ua = new UserAgent(curfew.url);
      const request = await authorizationRequest(curfew, 'bench-app');
      let page = await ua.navigate(request.url);
      page = await ua.submit(page, '/login', { username: user.username, password: PASSWORD });
      page = await ua.submit(page, '/totp', { code: await totpCode(TOTP_SECRET, Date.now()) });
      if (!page.leftTo) throw new Error(`TOTP sign-in did not finish (${page.status}): ${page.html.slice(0, 300)}`);
      await redeem(curfew, 'bench-app', page.leftTo, request.verifier);
      return true;
    }));
  } finally {
    for (const s of servers) await s.stop();
  }

  const result = { machine: machine(), chains: CHAINS, seconds: SECONDS, rows };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/signin.json'), JSON.stringify(result, null, 2) + '\n');
  process.stdout.write([
    `Sign-ins, ${CHAINS} concurrent loops for ${SECONDS} s each (${result.machine})`,
    '',
    '| Sign-in | Server | per second | p50 | p99 |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.what} | ${r.server === 'bare' ? 'bare oidc-provider 9' : 'Curfew'} | ${r.perSecond.toFixed(0)} | ${r.p50Ms.toFixed(1)} ms | ${r.p99Ms.toFixed(1)} ms |`),
    '',
  ].join('\n'));
}

await main();
