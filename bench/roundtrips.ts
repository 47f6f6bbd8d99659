/**
 * Redis round trips per request, endpoint by endpoint, Curfew beside bare oidc-provider 9 (issue 14:
 * every enforced endpoint at most one more than bare). Both servers run with
 * bench/servers/round-trips.ts preloaded, which counts the round trips the process waits on
 * (commands sent together count once, commands awaited one after another once each). Requests
 * are sent one at a time; each endpoint's figure is the median over BENCH_SAMPLES requests, so
 * a background step (the sweeper waking) landing inside one sample does not move it.
 *
 *   npm run bench:roundtrips      BENCH_SAMPLES=11
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../test/support/process.ts';
import { UserAgent } from '../test/support/user-agent.ts';
import { authorizationRequest, basicAuth, machine, passForms, redeem, ROOT, signIn, startBare, startCurfew, type Server } from './servers/index.ts';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 11);
const TRACE = process.env.BENCH_TRACE === '1';
const LOGIN = { username: 'bench', password: 'bench password 1' };

interface Counted {
  server: Server;
  counter: string;
}

interface Counts {
  roundTrips: number;
  commands: number;
  /** The counts when the server's latest answer left (bench/servers/round-trips.ts). */
  answered: { roundTrips: number; commands: number };
}

async function counts(c: Counted): Promise<Counts> {
  return (await (await fetch(c.counter)).json()) as Counts;
}

/** Lets what a step left running after its answer (an end finishing after a logout) settle, uncounted. */
async function quiet(c: Counted): Promise<Counts> {
  let last = await counts(c);
  for (;;) {
    await new Promise((r) => setTimeout(r, 20));
    const now = await counts(c);
    if (now.roundTrips === last.roundTrips) return now;
    last = now;
  }
}

/**
 * Round trips and commands `step`'s requests waited on until its last answer left (`setup` runs
 * first, uncounted, and what it left running settles first), median of SAMPLES.
 */
async function measure(c: Counted, label: string, setup: () => Promise<unknown>, step: (prepared: never) => Promise<void>): Promise<{ roundTrips: number; commands: number }> {
  const trips: number[] = [];
  const cmds: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const prepared = await setup();
    const before = await quiet(c);
    await step(prepared as never);
    // What the step's requests waited on: counted until its last answer left.
    const after = (await counts(c)).answered;
    if (TRACE && i === SAMPLES - 1) {
      const again = await setup();
      await fetch(`${c.counter}trace`);
      await step(again as never);
      process.stderr.write(`${c.server.name} ${label}: ${((await (await fetch(`${c.counter}trace`)).json()) as string[]).join(', ')}\n`);
    }
    trips.push(after.roundTrips - before.roundTrips);
    cmds.push(after.commands - before.commands);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { roundTrips: median(trips), commands: median(cmds) };
}

async function ok(res: Response, what: string): Promise<unknown> {
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) throw new Error(`${what}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

type Row = { endpoint: string; curfew?: { roundTrips: number; commands: number }; bare?: { roundTrips: number; commands: number } };

async function endpoints(c: Counted): Promise<Map<string, { roundTrips: number; commands: number }>> {
  const s = c.server;
  const user = { ...LOGIN, username: s.name === 'curfew' ? 'bench' : 'bench0' };
  const out = new Map<string, { roundTrips: number; commands: number }>();
  const { ua } = await signIn(s, 'bench-app', user);

  // The browser is signed in: authorize → redirect to the RP with a code (every request of it).
  out.set('authorize, live SSO session (to the code)', await measure(c, 'authorize, live SSO session (to the code)', () => authorizationRequest(s, 'bench-app'), async (req: { url: string }) => {
    await passForms(s, ua, req.url, user);
  }));
  out.set('token: authorization_code', await measure(c, 'token: authorization_code', async () => {
    const req = await authorizationRequest(s, 'bench-app');
    return { req, callback: await passForms(s, ua, req.url, user) };
  }, async ({ req, callback }: { req: { verifier: string }; callback: string }) => {
    await redeem(s, 'bench-app', callback, req.verifier);
  }));
  let tokens = (await signIn(s, 'bench-app', user, ua)).tokens;
  out.set('token: refresh_token (rotating)', await measure(c, 'token: refresh_token (rotating)', async () => undefined, async () => {
    const body = (await ok(await fetch(`${s.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth('bench-app') },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }),
    }), 'refresh')) as { refresh_token: string; access_token: string };
    tokens = body;
  }));
  out.set('userinfo', await measure(c, 'userinfo', async () => undefined, async () => {
    await ok(await fetch(`${s.url}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } }), 'userinfo');
  }));
  if (s.name === 'curfew') {
    for (const kind of ['status', 'activity'] as const) {
      out.set(`session ${kind} (bearer)`, await measure(c, `session ${kind} (bearer)`, async () => undefined, async () => {
        const body = (await ok(await fetch(`${s.url}/session/${kind}`, { method: kind === 'status' ? 'GET' : 'POST', headers: { authorization: `Bearer ${tokens.access_token}` } }), kind)) as { active?: boolean };
        if (!body.active) throw new Error(`session ${kind}: not active`);
      }));
    }
  }
  // RP-initiated logout, "sign me out": the confirm POST and what it redirects to (a fresh browser each sample).
  out.set('end_session confirm (logout=yes)', await measure(c, 'end_session confirm (logout=yes)', async () => {
    const fresh = new UserAgent(s.url);
    await signIn(s, 'bench-app', user, fresh);
    return { fresh, page: await fresh.navigate(`${s.url}/session/end?client_id=bench-app`) };
  }, async ({ fresh, page }: { fresh: UserAgent; page: Awaited<ReturnType<UserAgent['navigate']>> }) => {
    // The confirm POST alone: the page it redirects to reads nothing (on either server), and
    // following it would count an end's finishing, which runs after the POST's answer, as its wait.
    const form = UserAgent.forms(page.html, page.url).find((f) => new URL(f.action).pathname.endsWith('/session/end/confirm'));
    if (!form) throw new Error('end_session: no confirm form');
    const done = await fresh.request(form.action, { form: { ...form.fields, logout: 'yes' } });
    if (done.status !== 303 && done.status !== 302) throw new Error(`end_session: ${done.status}`);
  }));
  return out;
}

async function main(): Promise<void> {
  const preload = ['--import', './bench/servers/round-trips.ts'];
  const curfewPort = await freePort();
  const barePort = await freePort();
  const servers = [
    { server: await startCurfew({ nodeArgs: preload, env: { BENCH_RTT_PORT: String(curfewPort) } }), counter: `http://127.0.0.1:${curfewPort}/` },
    { server: await startBare({ nodeArgs: preload, env: { BENCH_RTT_PORT: String(barePort) } }), counter: `http://127.0.0.1:${barePort}/` },
  ];
  try {
    const found = new Map<string, Map<string, { roundTrips: number; commands: number }>>();
    for (const c of servers) found.set(c.server.name, await endpoints(c));
    const names = [...found.get('curfew')!.keys()];
    const rows: Row[] = names.map((endpoint) => ({ endpoint, curfew: found.get('curfew')!.get(endpoint), bare: found.get('bare')!.get(endpoint) }));
    const result = { machine: machine(), samples: SAMPLES, rows };
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/roundtrips.json'), JSON.stringify(result, null, 2) + '\n');
    const cell = (x?: { roundTrips: number; commands: number }) => (x ? `${x.roundTrips} (${x.commands} commands)` : '—');
    process.stdout.write([
      `Redis round trips per request (median of ${SAMPLES}; ${result.machine})`,
      '',
      '| Endpoint | Curfew | bare oidc-provider 9 | more than bare |',
      '| --- | --- | --- | --- |',
      ...rows.map((r) => `| ${r.endpoint} | ${cell(r.curfew)} | ${cell(r.bare)} | ${r.curfew && r.bare ? r.curfew.roundTrips - r.bare.roundTrips : '—'} |`),
      '',
    ].join('\n'));
  } finally {
    for (const c of servers) await c.server.stop();
  }
}

await main();
