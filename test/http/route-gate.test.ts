import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { firstSegments, gatedRoutes } from '../../src/http/route-gate.ts';

describe('firstSegments', () => {
  it('names the literal first segments of a router\'s paths, lower-cased', () => {
    expect(firstSegments(['/admin', '/admin/api/v1/orgs/:org', '/Metrics', '/interaction/:uid/login'])).toEqual(new Set(['admin', 'metrics', 'interaction']));
  });

  it('gives up (every request must reach the router) on a parameter, wildcard or regexp in the first segment', () => {
    expect(firstSegments(['/admin', '/:anything'])).toBeUndefined();
    expect(firstSegments(['(.*)'])).toBeUndefined();
    expect(firstSegments(['/admin', /^\/x/])).toBeUndefined();
    expect(firstSegments(['/'])).toBeUndefined();
  });
});

describe('gatedRoutes', () => {
  async function serve(...routers: Router[]) {
    const app = new Koa();
    for (const router of routers) app.use(gatedRoutes(router));
    // What comes after the routers (oidc-provider, in Curfew): it answers GETs only, so a
    // DELETE nobody answers is left for the routers' 405.
    app.use((ctx) => {
      if (ctx.method === 'GET') ctx.body = `fallthrough ${ctx.path}`;
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const get = async (path: string, method = 'GET') => {
      const res = await fetch(`${base}${path}`, { method });
      return `${res.status} ${await res.text()}`;
    };
    return { get, close: () => new Promise((r) => server.close(r)) };
  }

  it('answers what the router answered, 405 included; requests under no segment of it reach what follows', async () => {
    const admin = new Router({ prefix: '/admin' });
    admin.get('/ping', (ctx) => {
      ctx.body = 'pong';
    });
    const ops = new Router();
    ops.get('/healthz', (ctx) => {
      ctx.body = 'ok';
    });
    const s = await serve(admin, ops);
    try {
      expect(await s.get('/admin/ping')).toBe('200 pong');
      expect(await s.get('/ADMIN/PING')).toBe('200 pong');
      expect(await s.get('/admin/ping', 'DELETE')).toMatch(/^405 /);
      expect(await s.get('/healthz')).toBe('200 ok');
      expect(await s.get('/token')).toBe('200 fallthrough /token');
      // Under the router's segment but matching none of its routes: on to what follows, as before.
      expect(await s.get('/admin/nothing')).toBe('200 fallthrough /admin/nothing');
    } finally {
      await s.close();
    }
  });

  it('a router whose first segment could be anything sees every request', async () => {
    const any = new Router();
    any.get('/:name', (ctx) => {
      ctx.body = `named ${ctx.params.name}`;
    });
    const s = await serve(any);
    try {
      expect(await s.get('/whatever')).toBe('200 named whatever');
    } finally {
      await s.close();
    }
  });
});
