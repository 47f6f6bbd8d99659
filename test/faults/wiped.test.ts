import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startCurfew, type Harness } from '../support/curfew.ts';
import { freshPrefix } from '../support/redis.ts';
import { RedisServer } from '../support/redis-server.ts';

const ADMIN = `Basic ${Buffer.from('acme-admin:acme-admin-secret-0123456789').toString('base64')}`;

/** A token request of a seeded client: the first thing that fails (`invalid_client`) on a wiped store. */
const clientToken = (h: Harness) =>
  fetch(`${h.url}/token`, {
    method: 'POST',
    headers: { authorization: ADMIN, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'admin' }),
  });
const ready = async (h: Harness) => (await fetch(`${h.url}/readyz`)).status;
const kids = async (h: Harness) => ((await (await fetch(`${h.url}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid).sort();

async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

describe('a wiped store is noticed (two instances on a Redis without persistence)', () => {
  const server = new RedisServer();
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    await server.start();
    const prefix = freshPrefix('wiped');
    a = await startCurfew('redis', { prefix, redis: { url: server.url } });
    b = await startCurfew('redis', { prefix, redis: { url: server.url } });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await server.kill();
  });

  it('after FLUSHALL reads not ready, re-applies seed and keys once, and serves the seeded clients again, with no restart', async () => {
    const keysBefore = await kids(a);
    expect((await clientToken(a)).status).toBe(200);
    expect([await ready(a), await ready(b)]).toEqual([200, 200]);

    await server.flushAll();
    expect(await Promise.all([ready(a), ready(b)])).toEqual([503, 503]);
    expect(await eventually(async () => (await ready(a)) === 200 && (await ready(b)) === 200)).toBe(true);

    for (const h of [a, b]) expect((await clientToken(h)).status).toBe(200);
    // The same signing keys: tokens and cookies made before the wipe still verify.
    expect(await kids(a)).toEqual(keysBefore);
    expect(await kids(b)).toEqual(keysBefore);
    await signIn(b, b.userAgent(), 'acme-app', 'alice');
    // Both noticed; exactly one restored.
    const restores = [...a.logs, ...b.logs].filter((line) => line.includes('restoring the wiped store')).length;
    expect(restores).toBe(1);
  });

  it('after kill -9 and a restart without persistence, a token request never answers invalid_client: 503 at worst, then 200', async () => {
    await server.kill();
    await server.start();
    const statuses: number[] = [];
    expect(await eventually(async () => {
      const res = await clientToken(a);
      statuses.push(res.status);
      return res.status === 200;
    })).toBe(true);
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(await eventually(async () => (await ready(a)) === 200 && (await ready(b)) === 200)).toBe(true);
    expect((await clientToken(b)).status).toBe(200);
    await signIn(a, a.userAgent(), 'acme-app', 'bob');
  });
});
