import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { adminOf, consoleOf, MissingStateError } from '../../src/admin/request-state.ts';

function context() {
  const req = new IncomingMessage(new Socket());
  return new Koa().createContext(req, new ServerResponse(req));
}

describe('typed request state', () => {
  it('hands a route the state its middleware set', () => {
    const ctx = context();
    ctx.state.admin = { org: 'acme', actor: 'client:acme-admin' };
    ctx.state.console = { org: 'acme', user: 'u1', username: 'alice', clientId: 'c', sid: 's', idToken: 't', csrf: 'x' };
    expect(adminOf(ctx)).toEqual({ org: 'acme', actor: 'client:acme-admin' });
    expect(consoleOf(ctx).username).toBe('alice');
  });

  it('names the missing middleware when a route is mounted without it', () => {
    const ctx = context();
    expect(() => adminOf(ctx)).toThrow(MissingStateError);
    expect(() => adminOf(ctx)).toThrow('ctx.state.admin is unset: the route is not behind requireAdminToken');
    expect(() => consoleOf(ctx)).toThrow('ctx.state.console is unset: the route is not behind requireConsole');
  });
});
