import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createTokenPoster, type TokenPoster } from '../../src/logout/post-token.ts';

/** An RP endpoint on loopback answering `status`, keeping each request's method, type and body. */
async function rp(status: number) {
  const got: Array<{ method: string; type: string | undefined; cache: string | undefined; body: string }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ method: req.method!, type: req.headers['content-type'], cache: req.headers['cache-control'], body });
      res.statusCode = status;
      res.end('ignored');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { got, port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(r)) };
}

describe('posting a logout token', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const poster = (): TokenPoster => {
    const p = createTokenPoster({ timeoutMs: 2000, concurrencyPerClient: 2 });
    cleanups.push(() => p.close());
    return p;
  };

  it('POSTs the token as a form, uncached, and calls a 2xx delivered', async () => {
    const server = await rp(204);
    cleanups.push(server.close);
    const outcome = await poster().post(new URL(`http://127.0.0.1:${server.port}/bcl`), true, 'a.b.c');
    expect(outcome).toEqual({ kind: 'delivered', status: 204 });
    expect(server.got).toEqual([{ method: 'POST', type: 'application/x-www-form-urlencoded', cache: 'no-store', body: 'logout_token=a.b.c' }]);
  });

  it.each([
    [400, 'permanent'],
    [410, 'permanent'],
    [408, 'transient'],
    [429, 'transient'],
    [503, 'transient'],
  ])('calls HTTP %i %s (SPEC §9)', async (status, kind) => {
    const server = await rp(status);
    cleanups.push(server.close);
    expect(await poster().post(new URL(`http://127.0.0.1:${server.port}/bcl`), true, 't')).toEqual({ kind, error: `HTTP ${status}`, status });
  });

  it('calls a refused connection transient: the RP may come back', async () => {
    const server = await rp(200);
    await server.close();
    const outcome = await poster().post(new URL(`http://127.0.0.1:${server.port}/bcl`), true, 't');
    expect(outcome.kind).toBe('transient');
  });

  it('never connects to a special-use address of an origin that is not allow-listed', async () => {
    const server = await rp(200);
    cleanups.push(server.close);
    const outcome = await poster().post(new URL(`http://localhost:${server.port}/bcl`), false, 't');
    expect(outcome).toMatchObject({ kind: 'permanent', error: expect.stringMatching(/special-use address/) });
    expect(server.got).toEqual([]);
  });

  it('closes once, however often it is asked', async () => {
    const p = createTokenPoster({ timeoutMs: 1000, concurrencyPerClient: 1 });
    await Promise.all([p.close(), p.close()]);
    await p.close();
  });
});
