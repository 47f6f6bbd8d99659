import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { afterEach, describe, expect, it } from 'vitest';
import { PASSWORDS, RP_CALLBACK, testSeed } from '../support/curfew.ts';
import { freePort, runMain, startNpm, type Started } from '../support/process.ts';
import { deletePrefix, freshPrefix, REDIS_URL } from '../support/redis.ts';
import { UserAgent } from '../support/user-agent.ts';
import { until } from '../support/wait.ts';

/** The pid of the worker that answers a request on a new connection (round robin across workers). */
function workerPid(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(Number(res.headers['x-curfew-worker-pid'])));
    });
    req.on('error', reject);
    req.end();
  });
}

/** openid-client's fetch, on a new connection each time, recording which worker answered. */
function freshConnections(seen: number[]): typeof fetch {
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const target = new URL(input instanceof Request ? input.url : String(input));
      const headers = new Headers(init?.headers);
      const req = request(target, { method: init?.method ?? 'GET', agent: false, headers: Object.fromEntries(headers) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          seen.push(Number(res.headers['x-curfew-worker-pid']));
          const out = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') out.set(k, v);
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0, headers: out }));
        });
      });
      req.on('error', reject);
      if (init?.body) req.write(String(init.body));
      req.end();
    });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const parentOf = (pid: number) => Number(/^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
const refused = async (url: string) => fetch(url).then(() => false, () => true);

async function distinctWorkers(url: string, count: number): Promise<Set<number>> {
  const pids = new Set<number>();
  await until(`${count} workers to answer`, async () => {
    pids.add(await workerPid(url));
    return pids.size >= count;
  }, 10_000, 10);
  return pids;
}

// Real processes, forked and started on a shared 2-core machine: generous, never a deadline's length.
describe('CURFEW_WORKERS: one process per core on one host', { timeout: 60_000 }, () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function startCluster(): Promise<{ app: Started; base: string }> {
    const prefix = freshPrefix('cluster');
    cleanups.push(() => deletePrefix(prefix));
    const seedFile = join(mkdtempSync(join(tmpdir(), 'curfew-cluster-')), 'seed.json');
    writeFileSync(seedFile, JSON.stringify(testSeed()));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const app = await startNpm({
      PORT: String(port), ISSUER: base, REDIS_URL, CURFEW_REDIS_PREFIX: prefix, CURFEW_SEED: seedFile,
      CURFEW_WORKERS: '2', CURFEW_TEST_WORKER_HEADER: 'true',
    }, /Curfew is serving/, 40_000);
    cleanups.push(() => app.stop());
    return { app, base };
  }

  it('serves one port from two worker processes; a sign-in on one refreshes on the other', async () => {
    const { app, base } = await startCluster();
    const workers = await distinctWorkers(`${base}/healthz`, 2);
    expect(workers.size).toBe(2);
    // The seed was applied once, by the first worker, before the second was forked.
    expect(app.output().match(/"msg":"worker is serving"/g)).toHaveLength(2);

    const seen: number[] = [];
    const rp = await oidc.discovery(new URL(base), 'acme-app', undefined, oidc.ClientSecretBasic('acme-app-secret-0123456789'), {
      execute: [oidc.allowInsecureRequests],
      [oidc.customFetch]: freshConnections(seen),
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: RP_CALLBACK,
      scope: 'openid offline_access',
      prompt: 'consent',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const ua = new UserAgent(base);
    let page = await ua.navigate(url.href);
    page = await ua.submit(page, '/login', { username: 'alice', password: PASSWORDS.alice });
    if (!page.leftTo && /\/confirm"/.test(page.html)) page = await ua.submit(page, '/confirm');
    expect(page.leftTo).toBeDefined();
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(page.leftTo!), { pkceCodeVerifier: verifier });
    const signedInOn = seen.at(-1)!;
    expect(tokens.refresh_token).toBeDefined();

    // Refresh (rotating the token each time) until a worker other than the sign-in's answers.
    let refresh = tokens.refresh_token!;
    for (let i = 0; i < 6 && seen.at(-1) === signedInOn; i++) {
      const next = await oidc.refreshTokenGrant(rp, refresh);
      expect(next.access_token).toBeDefined();
      refresh = next.refresh_token ?? refresh;
    }
    expect(workers.has(seen.at(-1)!)).toBe(true);
    expect(seen.at(-1)).not.toBe(signedInOn);

    // SIGHUP to the primary: the seed is re-read and applied by one worker, not by each.
    process.kill(parentOf(signedInOn), 'SIGHUP');
    await until('the seed to be reloaded', async () => app.output().includes('"msg":"seed reloaded"'));
    await new Promise((r) => setTimeout(r, 500));
    expect(app.output().match(/"msg":"seed reloaded"/g)).toHaveLength(1);
    expect(app.output()).not.toContain('seed reload failed');
  });

  it('replaces a worker killed with SIGKILL, and serves throughout', async () => {
    const { app, base } = await startCluster();
    const before = await distinctWorkers(`${base}/healthz`, 2);
    const [victim, survivor] = [...before];
    process.kill(victim!, 'SIGKILL');
    await until('the victim to be gone', async () => !alive(victim!));
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const after = await distinctWorkers(`${base}/healthz`, 2);
    expect(after.has(victim!)).toBe(false);
    expect(after.has(survivor!)).toBe(true);
    expect(app.output()).toContain('a worker died; restarting it');
  });

  it('stops the primary and every worker when SIGTERM reaches npm start, and closes the port', async () => {
    const { app, base } = await startCluster();
    const workers = [...(await distinctWorkers(`${base}/healthz`, 2))];
    const primary = parentOf(workers[0]!);
    expect(parentOf(workers[1]!)).toBe(primary);

    app.child.kill('SIGTERM');
    await new Promise((r) => app.child.once('exit', r));
    await until('every process to stop', async () => ![primary, ...workers].some(alive));
    expect(await refused(`${base}/healthz`)).toBe(true);
    expect(app.output().match(/"msg":"shutting down"/g)).toHaveLength(3);
  });

  it('fails the start whole, primary included, when a worker cannot start', async () => {
    const { code, output } = await runMain({ CURFEW_WORKERS: '2', REDIS_URL: 'redis://127.0.0.1:1', PORT: String(await freePort()) }, 30_000);
    expect(code).toBe(1);
    expect(output).toContain('does not answer (REDIS_URL)');
    expect(output).toContain('a worker could not start');
  });

  it('refuses more than one worker on the in-memory store, naming the setting', async () => {
    const { code, output } = await runMain({ CURFEW_WORKERS: '2', PORT: String(await freePort()) });
    expect(code).toBe(1);
    expect(output).toContain('CURFEW_WORKERS');
    expect(output).toContain('REDIS_URL');
    const auto = await runMain({ CURFEW_WORKERS: 'auto', PORT: String(await freePort()) });
    expect(auto.code).toBe(1);
    expect(auto.output).toContain('CURFEW_WORKERS');
  });
});
