import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Koa, { type Context } from 'koa';

/** Koa as Curfew's app sets it up for cookies: signed with these keys. */
export const app = new Koa({ keys: ['interaction test cookie key'] });

/** A real koa context for one request to `url`, carrying these cookies (`name=value; …`). */
export function requestContext(url = '/', cookie = ''): Context {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = url;
  req.headers.host = '127.0.0.1';
  if (cookie) req.headers.cookie = cookie;
  return app.createContext(req, new ServerResponse(req));
}

/** The cookies a response set, as the browser sends them on its next request. */
export function cookiesSetBy(ctx: Context): string {
  const set = ctx.response.get('set-cookie');
  const lines = Array.isArray(set) ? set : set ? [String(set)] : [];
  return lines.map((line) => line.split(';')[0]).join('; ');
}
