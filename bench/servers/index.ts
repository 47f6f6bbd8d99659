/**
 * The two servers every side-by-side benchmark compares, each a child process on loopback over
 * the same Redis (REDIS_URL) under a throwaway prefix: Curfew's real entry point, seeded, and
 * bare oidc-provider 9 (bench/servers/bare-provider.ts). Sign-ins go through each server's own
 * forms, as a browser, so both hold real sessions and session-bound tokens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as oidc from 'openid-client';
import { freePort } from '../../test/support/process.ts';
import { deletePrefix } from '../../test/support/redis.ts';
import { UserAgent } from '../../test/support/user-agent.ts';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLIENTS = ['bench-app', 'bench-other'] as const;
export type BenchClient = (typeof CLIENTS)[number];
export const REDIRECT = 'https://rp.example/cb';
const secretOf = (client: BenchClient) => `${client}-secret-0123456789`;
export const basicAuth = (client: BenchClient) => `Basic ${Buffer.from(`${client}:${secretOf(client)}`).toString('base64')}`;

export interface Server {
  name: 'curfew' | 'bare';
  url: string;
  child: ChildProcess;
  prefix: string;
  stop(): Promise<void>;
}

function start(name: Server['name'], args: string[], env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    // Seeding hashes every user's password (argon2): a large seed takes a while.
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${out}`)), 300_000);
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

function server(name: Server['name'], url: string, child: ChildProcess, prefix: string): Server {
  return {
    name, url, child, prefix,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      await deletePrefix(prefix);
    },
  };
}

export interface CurfewOptions {
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Extra environment (e.g. BENCH_RTT_PORT for bench/servers/round-trips.ts). */
  env?: Record<string, string>;
  policy?: Record<string, unknown>;
  users?: Array<{ username: string; password: string; totpSecret?: string }>;
}

export async function startCurfew(options: CurfewOptions = {}): Promise<Server> {
  const port = await freePort();
  // As long as production's default `curfew:`: key names are part of every key's bytes (bench:memory).
  const prefix = `cb${port}:`;
  const seedFile = join(mkdtempSync(join(tmpdir(), 'curfew-bench-')), 'seed.json');
  writeFileSync(seedFile, JSON.stringify({
    orgs: [{
      id: 'bench', name: 'Bench',
      policy: options.policy ?? { idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 43200, warningSeconds: 120, mfa: 'off' },
      users: options.users ?? [{ username: 'bench', password: 'bench password 1', roles: [] }],
      clients: CLIENTS.map((client_id) => ({ client_id, client_secret: secretOf(client_id), redirect_uris: [REDIRECT] })),
    }],
  }));
  const url = `http://127.0.0.1:${port}`;
  const env = { PORT: String(port), ISSUER: url, REDIS_URL, CURFEW_REDIS_PREFIX: prefix, CURFEW_SEED: seedFile, LOG_LEVEL: 'info', ...options.env };
  return server('curfew', url, await start('curfew', [...(options.nodeArgs ?? []), 'src/main.ts'], env, /Curfew is serving/), prefix);
}

export async function startBare(options: Pick<CurfewOptions, 'nodeArgs' | 'env'> = {}): Promise<Server> {
  const port = await freePort();
  const prefix = `bb${port}:`;
  const child = await start('bare', [...(options.nodeArgs ?? []), 'bench/servers/bare-provider.ts'], { PORT: String(port), REDIS_URL, BENCH_PREFIX: prefix, ...options.env }, /listening/);
  return server('bare', `http://127.0.0.1:${port}`, child, prefix);
}

/** An authorization request of `client` with PKCE; the verifier redeems its code. */
export async function authorizationRequest(server: Server, client: BenchClient) {
  const verifier = oidc.randomPKCECodeVerifier();
  const url = new URL(`${server.url}/auth`);
  url.search = new URLSearchParams({
    client_id: client, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  }).toString();
  return { url: url.href, verifier };
}

/** Passes whatever forms the server shows (login, consent) until it redirects to the RP. */
export async function passForms(server: Server, ua: UserAgent, start: string, login: { username: string; password: string }): Promise<string> {
  let page = await ua.navigate(start);
  for (let step = 0; step < 4 && !page.leftTo; step++) {
    if (server.name === 'curfew') {
      page = /\/login"/.test(page.html) ? await ua.submit(page, '/login', login) : await ua.submit(page, '/confirm');
    } else {
      // The library's dev interactions: a login form, then a consent form, both posting to the interaction's own URL.
      page = await ua.submit(page, new URL(page.url).pathname, /name="login"/.test(page.html) ? { login: login.username, password: 'x' } : {});
    }
  }
  if (!page.leftTo) throw new Error(`${server.name}: sign-in did not finish (${page.status}): ${page.html.slice(0, 300)}`);
  return page.leftTo;
}

/** The RP's half: the code of the callback redeemed for tokens. */
export async function redeem(server: Server, client: BenchClient, callback: string, verifier: string, dispatcher?: RequestInit): Promise<{ refresh_token: string; access_token: string }> {
  const code = new URL(callback).searchParams.get('code');
  if (!code) throw new Error(`${server.name}: no code in ${callback}`);
  const res = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(client) },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }),
    ...dispatcher,
  });
  const body = (await res.json()) as { refresh_token?: string; access_token?: string };
  if (!body.refresh_token || !body.access_token) throw new Error(`${server.name}: token response ${res.status}: ${JSON.stringify(body)}`);
  return { refresh_token: body.refresh_token, access_token: body.access_token };
}

/** A browser signed in to `client`; returns its tokens and the browser (holding the SSO session). */
export async function signIn(server: Server, client: BenchClient, login = { username: 'bench', password: 'bench password 1' }, ua = new UserAgent(server.url)) {
  const request = await authorizationRequest(server, client);
  const tokens = await redeem(server, client, await passForms(server, ua, request.url, login), request.verifier);
  return { ua, tokens };
}

export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

export function machine(): string {
  return `${process.platform} ${process.arch}, ${navigator.hardwareConcurrency} cores, Node ${process.versions.node}`;
}
