import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testSeed } from '../support/curfew.ts';
import { freePort, startMain, startNpm, type Started } from '../support/process.ts';
import { deletePrefix, freshPrefix, REDIS_URL } from '../support/redis.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { until } from '../support/wait.ts';

const refused = async (url: string) => fetch(url).then(() => false, () => true);

describe('the process, as an operator runs it', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('stops the server when SIGTERM reaches npm start, not only npm', async () => {
    const port = await freePort();
    const app: Started = await startNpm({ PORT: String(port), ISSUER: `http://127.0.0.1:${port}` }, /Curfew is serving/);
    cleanups.push(() => app.stop());
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    app.child.kill('SIGTERM');
    await new Promise((r) => app.child.once('exit', r));
    // npm is gone; the server it started must be too, after a clean shutdown.
    await until('the server to stop', () => refused(`http://127.0.0.1:${port}/healthz`));
    expect(app.output()).toContain('shutting down');
  });

  it('listens only on HOST when it is set', async () => {
    const port = await freePort();
    const app = await startMain({ PORT: String(port), HOST: '127.0.0.2', ISSUER: `http://127.0.0.2:${port}` }, /Curfew is serving/);
    cleanups.push(() => app.stop());
    expect((await fetch(`http://127.0.0.2:${port}/healthz`)).status).toBe(200);
    expect(await refused(`http://127.0.0.1:${port}/healthz`)).toBe(true);
  });

  it('reads as not ready within a second while Redis stalls, stays live, and recovers with no restart', async () => {
    const upstream = new URL(REDIS_URL);
    const proxy = new TcpProxy({ host: upstream.hostname, port: Number(upstream.port || 6379) });
    const proxyPort = await proxy.start();
    cleanups.push(() => proxy.close());
    const prefix = freshPrefix('stall');
    cleanups.push(() => deletePrefix(prefix));
    const seedFile = join(mkdtempSync(join(tmpdir(), 'curfew-stall-')), 'seed.json');
    writeFileSync(seedFile, JSON.stringify(testSeed()));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const redisUrl = new URL(REDIS_URL);
    redisUrl.host = `127.0.0.1:${proxyPort}`;
    const app = await startMain({ PORT: String(port), ISSUER: base, REDIS_URL: redisUrl.href, CURFEW_REDIS_PREFIX: prefix, CURFEW_SEED: seedFile }, /Curfew is serving/);
    cleanups.push(() => app.stop());
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    proxy.freeze();
    const started = Date.now();
    const stalled = await fetch(`${base}/readyz`);
    const took = Date.now() - started;
    expect(stalled.status).toBe(503);
    expect(await stalled.json()).toEqual({ status: 'unavailable', store: 'redis' });
    // Bounded by the probe timeout (1 s) plus scheduling on a busy machine; unbounded before.
    expect(took).toBeLessThan(3_000);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    proxy.thaw();
    await until('readiness to come back', async () => (await fetch(`${base}/readyz`)).status === 200);
  });
});
