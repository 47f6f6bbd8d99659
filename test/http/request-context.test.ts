import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { requestState, withRequestState } from '../../src/http/request-context.ts';
import { serve } from '../support/serve.ts';

describe('per-request state', () => {
  it('is absent outside a request', () => {
    expect(requestState()).toBeUndefined();
  });

  it('is one fresh object per request, seen by every later step of it (synchronous ones too), never by another request', async () => {
    const app = new Koa();
    app.use(withRequestState);
    app.use(async (ctx, next) => {
      const state = requestState()!;
      expect(state).toEqual({});
      // A slow request, so the others overlap it.
      state.rpAlive = { sessionUid: String(ctx.query.uid), clientId: 'app' };
      await new Promise((r) => setTimeout(r, 20));
      await next();
    });
    app.use((ctx) => {
      const read = () => requestState()?.rpAlive?.sessionUid;
      ctx.body = { seen: read() };
    });
    const server = await serve(app);
    try {
      const uids = Array.from({ length: 50 }, (_, i) => `uid-${i}`);
      const answers = await Promise.all(uids.map(async (uid) => (await (await fetch(`${server.url}/?uid=${uid}`)).json()) as { seen: string }));
      expect(answers.map((a) => a.seen)).toEqual(uids);
    } finally {
      await server.close();
    }
    expect(requestState()).toBeUndefined();
  });
});
