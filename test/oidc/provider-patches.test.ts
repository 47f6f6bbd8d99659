import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
// The library's own session proxy (what every provider route wraps ctx.oidc.session in).
import sessionHandler from 'oidc-provider/lib/shared/session.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createClientSecrets } from '../../src/orgs/client-secret.ts';
import {
  alwaysIncludeSid,
  compareHashedClientSecrets,
  forgetLogin,
  publicProtocolIsTheIssuers,
  queueOwnsBackchannelLogout,
} from '../../src/oidc/provider-patches.ts';

const secrets = createClientSecrets('patch-test identifier key');
const SECRET = 'the client secret 0123456789';

/** A bare provider over the library's memory adapter: each test applies one patch to it. */
function bareProvider(issuer = 'http://127.0.0.1:1', backchannelUri = 'http://127.0.0.1:9/logout') {
  return new Provider(issuer, {
    clients: [{
      client_id: 'rp',
      client_secret: secrets.seal(SECRET),
      redirect_uris: ['http://127.0.0.1:9/cb'],
      backchannel_logout_uri: backchannelUri,
    }],
    cookies: { keys: ['patch-test cookie key'] },
    ttl: { Session: 600 },
    features: { devInteractions: { enabled: false }, backchannelLogout: { enabled: true } },
  });
}

async function rp(provider: Provider) {
  const client = await provider.Client.find('rp');
  if (!client) throw new Error('the test client is missing');
  return client;
}

/** The library's (untyped) back-channel logout of a client: what the patch replaces. */
function backchannelLogoutOf(client: object): (sub: string, sid: string) => Promise<unknown> {
  const send: unknown = Reflect.get(client, 'backchannelLogout');
  if (typeof send !== 'function') throw new Error('the client has no backchannelLogout');
  return (sub, sid) => Promise.resolve(send.call(client, sub, sid));
}

function contextOf(provider: Provider) {
  const req = new IncomingMessage(new Socket());
  req.headers.host = '127.0.0.1';
  return provider.createContext(req, new ServerResponse(req));
}

describe('provider patches (src/oidc/provider-patches.ts)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('compareHashedClientSecrets: the stored hash matches its secret only, which the library alone cannot tell', async () => {
    const provider = bareProvider();
    expect(await (await rp(provider)).compareClientSecret(SECRET)).toBe(false);
    compareHashedClientSecrets(provider, secrets);
    const client = await rp(provider);
    expect(await client.compareClientSecret(SECRET)).toBe(true);
    expect(await client.compareClientSecret(`${SECRET}x`)).toBe(false);
    expect(await client.compareClientSecret(secrets.seal(SECRET))).toBe(false);
  });

  it('alwaysIncludeSid: a client not registered for session-bound logout still gets sid', async () => {
    const provider = bareProvider();
    expect((await rp(provider)).includeSid()).toBe(false);
    alwaysIncludeSid(provider);
    expect((await rp(provider)).includeSid()).toBe(true);
  });

  it('queueOwnsBackchannelLogout: the library posts no logout token of its own', async () => {
    let posts = 0;
    const receiver: Server = createServer((_req, res) => {
      posts++;
      res.end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => receiver.close(() => resolve())));
    const uri = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/logout`;
    const provider = bareProvider('http://127.0.0.1:1', uri);
    // Unpatched, the library tries to deliver (and refuses a loopback address since 9.7).
    await expect(backchannelLogoutOf(await rp(provider))('alice', 'sid-1')).rejects.toThrow();
    queueOwnsBackchannelLogout(provider);
    await expect(backchannelLogoutOf(await rp(provider))('alice', 'sid-1')).resolves.toBeUndefined();
    expect(posts).toBe(0);
  });

  it('publicProtocolIsTheIssuers: behind TLS-terminating proxies every request is https, so cookies are Secure', () => {
    const plain = bareProvider('http://127.0.0.1:1');
    publicProtocolIsTheIssuers(plain, 'http://127.0.0.1:1');
    expect(contextOf(plain).protocol).toBe('http');

    const behindTls = bareProvider('https://id.example');
    expect(contextOf(behindTls).protocol).toBe('http');
    publicProtocolIsTheIssuers(behindTls, 'https://id.example');
    const ctx = contextOf(behindTls);
    expect(ctx.protocol).toBe('https');
    expect(ctx.secure).toBe(true);
  });

  it('forgetLogin: clears the sign-in through the library\'s session proxy and marks the session for saving', async () => {
    const provider = bareProvider();
    const ctx = contextOf(provider) as unknown as KoaContextWithOIDC;
    Object.defineProperty(ctx, 'oidc', { value: new provider.OIDCContext(ctx) });
    await sessionHandler(ctx, async () => {
      const session = ctx.oidc.session;
      if (!session) throw new Error('no session');
      session.loginAccount({ accountId: 'alice', acr: 'urn:curfew:acr:pwd', amr: ['pwd'] });
      session.authorizations = { rp: { sid: 'sid-1', grantId: 'grant-1' } };
      Reflect.set(session, 'touched', false);
      // Why deleting: the proxy refuses an empty accountId.
      expect(() => {
        session.accountId = '';
      }).toThrow(TypeError);

      forgetLogin(session);
      expect(session.accountId).toBeUndefined();
      expect(session.acr).toBeUndefined();
      expect(session.amr).toBeUndefined();
      expect(session.loginTs).toBeUndefined();
      expect(session.authorizations).toEqual({});
      expect(Reflect.get(session, 'touched')).toBe(true);
    });
  });
});
