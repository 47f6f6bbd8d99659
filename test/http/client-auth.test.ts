import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Koa from 'koa';
import Provider from 'oidc-provider';
import { describe, expect, it } from 'vitest';
import { CurfewError } from '../../src/errors.ts';
import { authenticateClient } from '../../src/http/client-auth.ts';

// A bare provider with static clients: what is tested is how the caller's credentials are read
// and judged, not how Curfew stores secrets (test/oidc/provider-patches.test.ts covers that).
const provider = new Provider('http://127.0.0.1:1', {
  clients: [
    { client_id: 'conf', client_secret: 'a secret: with+plus & colon', redirect_uris: ['https://rp.example/cb'], grant_types: ['authorization_code'], response_types: ['code'] },
    { client_id: 'pub', token_endpoint_auth_method: 'none', redirect_uris: ['https://rp.example/cb'], grant_types: ['authorization_code'], response_types: ['code'] },
  ],
});

function context(authorization?: string) {
  const req = new IncomingMessage(new Socket());
  if (authorization !== undefined) req.headers.authorization = authorization;
  return new Koa().createContext(req, new ServerResponse(req));
}

/** RFC 6749 §2.3.1: each part form-urlencoded, then base64. */
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function refusal(run: Promise<unknown>): Promise<CurfewError> {
  const err = await run.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(CurfewError);
  return err as CurfewError;
}

describe('authenticateClient', () => {
  it('accepts client_secret_basic with form-urlencoded parts', async () => {
    const client = await authenticateClient(context(basic('conf', 'a secret: with+plus & colon')), provider, {});
    expect(client.clientId).toBe('conf');
  });

  it('accepts client_secret_post', async () => {
    const client = await authenticateClient(context(), provider, { client_id: 'conf', client_secret: 'a secret: with+plus & colon' });
    expect(client.clientId).toBe('conf');
  });

  it('accepts a public client by its id alone', async () => {
    expect((await authenticateClient(context(), provider, { client_id: 'pub' })).clientId).toBe('pub');
  });

  it('gives every failure one public answer and keeps which one it was for the log', async () => {
    const cases: Array<[string, ReturnType<typeof context>, Record<string, unknown>, string]> = [
      ['no id', context(), {}, 'no client_id'],
      ['unknown client', context(), { client_id: 'nobody', client_secret: 'x' }, 'no client nobody'],
      ['wrong secret', context(basic('conf', 'wrong')), {}, 'client conf: wrong secret'],
      ['no secret', context(), { client_id: 'conf' }, 'client conf: no secret'],
      ['public client with a secret', context(), { client_id: 'pub', client_secret: 'x' }, 'public client pub sent a secret'],
      ['malformed Basic header', context('Basic !!!'), {}, 'no client_id'],
      ['Basic without a colon', context(`Basic ${Buffer.from('conf').toString('base64')}`), {}, 'no client_id'],
    ];
    for (const [what, ctx, body, detail] of cases) {
      const err = await refusal(authenticateClient(ctx, provider, body));
      expect(err.code, what).toBe('invalid_client');
      expect(err.message, what).toBe('client authentication failed');
      expect(err.detail, what).toBe(detail);
    }
  });

  it('prefers the Basic header to body credentials', async () => {
    const err = await refusal(authenticateClient(context(basic('conf', 'wrong')), provider, { client_id: 'conf', client_secret: 'a secret: with+plus & colon' }));
    expect(err.detail).toBe('client conf: wrong secret');
  });
});
