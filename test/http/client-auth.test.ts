import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CurfewError } from '../../src/errors.ts';
import { authenticateClient } from '../../src/http/client-auth.ts';
import { startCurfew, type Harness } from '../support/curfew.ts';

const SECRET = 'acme-app-secret-0123456789';

function context(authorization?: string) {
  const req = new IncomingMessage(new Socket());
  if (authorization !== undefined) req.headers.authorization = authorization;
  return new Koa().createContext(req, new ServerResponse(req));
}
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** The seeded provider: its clients' secrets are stored hashed, as in production. */
let h: Harness;
beforeAll(async () => {
  h = await startCurfew('memory');
});
afterAll(async () => {
  await h.close();
});

const authenticate = (authorization: string | undefined, body: Record<string, unknown> = {}) =>
  authenticateClient(context(authorization), h.curfew.provider, body);

/** The one public answer every failure gets, and the log-only detail that tells them apart. */
async function refusal(attempt: Promise<unknown>): Promise<string | undefined> {
  const error = await attempt.then(() => undefined, (err: unknown) => err);
  expect(error).toBeInstanceOf(CurfewError);
  const { code, message, detail } = error as CurfewError;
  expect({ code, message }).toEqual({ code: 'invalid_client', message: 'client authentication failed' });
  return detail;
}

describe('authenticateClient', () => {
  it('accepts client_secret_basic and client_secret_post with the right secret', async () => {
    expect((await authenticate(basic('acme-app', SECRET))).clientId).toBe('acme-app');
    expect((await authenticate(undefined, { client_id: 'acme-app', client_secret: SECRET })).clientId).toBe('acme-app');
  });

  it('form-decodes both parts of the Basic header (RFC 6749 §2.3.1)', async () => {
    expect((await authenticate(basic('acme%2Dapp', SECRET.replace(/-/g, '%2D')))).clientId).toBe('acme-app');
  });

  it('takes the Basic header over the body', async () => {
    expect((await authenticate(basic('acme-app', SECRET), { client_id: 'acme-other', client_secret: 'wrong' })).clientId).toBe('acme-app');
  });

  it('refuses a wrong, missing or misplaced secret with one answer', async () => {
    expect(await refusal(authenticate(basic('acme-app', `${SECRET}x`)))).toBe('client acme-app: wrong secret');
    expect(await refusal(authenticate(undefined, { client_id: 'acme-app', client_secret: 'acme-other-secret-0123456789' }))).toBe('client acme-app: wrong secret');
    expect(await refusal(authenticate(undefined, { client_id: 'acme-app' }))).toBe('client acme-app: no secret');
    expect(await refusal(authenticate(undefined, { client_id: 'acme-app', client_secret: 42 }))).toBe('client acme-app: no secret');
  });

  it('refuses an unknown client, and a request that names none', async () => {
    expect(await refusal(authenticate(basic('nobody', SECRET)))).toBe('no client nobody');
    expect(await refusal(authenticate(undefined))).toBe('no client_id');
    // A Basic header without a colon carries no credentials; the body has none either.
    expect(await refusal(authenticate(`Basic ${Buffer.from('acme-app').toString('base64')}`))).toBe('no client_id');
    expect(await refusal(authenticate('Bearer abc', { client_secret: SECRET }))).toBe('no client_id');
  });

  it('accepts a public client by its client_id alone, and refuses one that sends a secret', async () => {
    expect((await authenticate(undefined, { client_id: 'acme-spa' })).clientId).toBe('acme-spa');
    expect(await refusal(authenticate(undefined, { client_id: 'acme-spa', client_secret: 'anything' }))).toBe('public client acme-spa sent a secret');
    expect(await refusal(authenticate(basic('acme-spa', 'anything')))).toBe('public client acme-spa sent a secret');
  });
});
