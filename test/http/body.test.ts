import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { bodyFields } from '../../src/http/body.ts';

function context() {
  const req = new IncomingMessage(new Socket());
  return new Koa().createContext(req, new ServerResponse(req));
}

describe('bodyFields', () => {
  it.each([
    ['no body', undefined, {}],
    ['a form', { csrf: 'x', name: 'n' }, { csrf: 'x', name: 'n' }],
    ['a JSON array', ['a'], {}],
    ['a JSON string', 'text', {}],
    ['null', null, {}],
  ])('reads %s as fields', (_what, body, fields) => {
    const ctx = context();
    ctx.request.body = body;
    expect(bodyFields(ctx)).toEqual(fields);
  });
});
