import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORDS, startCurfew, testSeed, type Harness } from '../support/curfew.ts';
import { freePort } from '../support/process.ts';
import { memorySessionStore } from '../support/express-store.ts';

// express and express-openid-connect are CommonJS: load them the way an RP app would.
const require = createRequire(import.meta.url);
const express = require('express') as typeof import('express');
const { auth } = require('express-openid-connect') as { auth: (config: Record<string, unknown>) => import('express').RequestHandler };

const MIN = 60_000;
const SECRET = 'eoc-app-secret-0123456789';

/** An express-session style store, as express-openid-connect expects for logout tokens. */
/**
 * A real RP library (express-openid-connect) signs in through Curfew and, when Curfew's
 * sweeper ends the idle session, receives the logout token and drops its own session.
 */
describe('express-openid-connect as a relying party', () => {
  let h: Harness;
  let server: Server;
  let rpUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    rpUrl = `http://127.0.0.1:${port}`;
    const seed = testSeed();
    seed.orgs[0]!.clients.push({
      client_id: 'eoc-app',
      client_secret: SECRET,
      redirect_uris: [`${rpUrl}/callback`],
      post_logout_redirect_uris: [rpUrl],
      backchannel_logout_uri: `${rpUrl}/backchannel-logout`,
    } as never);
    h = await startCurfew('redis', { seed, config: { 'backchannel.allowlist': ['http://127.0.0.1:*'] } });

    const app = express();
    app.use(
      auth({
        issuerBaseURL: h.url,
        baseURL: rpUrl,
        clientID: 'eoc-app',
        clientSecret: SECRET,
        secret: 'a-long-random-cookie-secret-for-the-test-rp-0123456789',
        authRequired: false,
        idpLogout: false,
        authorizationParams: { response_type: 'code', response_mode: 'query', scope: 'openid profile' },
        backchannelLogout: { store: memorySessionStore() },
      }),
    );
    app.get('/me', (req, res) => {
      const oidc = (req as unknown as { oidc: { isAuthenticated(): boolean; user?: { sub: string } } }).oidc;
      res.json({ authenticated: oidc.isAuthenticated(), sub: oidc.user?.sub });
    });
    server = createServer(app);
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await h?.close();
  });

  it('drops the RP\'s own session when Curfew ends the idle session', async () => {
    const t0 = await h.clock.now();
    const ua = h.userAgent();
    const start = await ua.request(`${rpUrl}/login`);
    expect(start.status).toBe(302);
    const login = await ua.navigate(start.headers.get('location')!);
    const back = await ua.submit(login, '/login', { username: 'alice', password: PASSWORDS.alice });
    expect(back.leftTo).toMatch(new RegExp(`^${rpUrl}/callback\\?`));
    const callback = await ua.request(back.leftTo!);
    expect(callback.status, callback.html.slice(0, 300)).toBe(302);
    const me = JSON.parse((await ua.request(`${rpUrl}/me`)).html) as { authenticated: boolean; sub: string };
    expect(me.authenticated).toBe(true);

    await h.clock.set(t0 + 15 * MIN);
    await h.curfew.sweeper.tick();
    await h.curfew.sender.tick();
    const delivered = (await h.store.audit.query({ org: 'acme', type: 'backchannel.delivered', limit: 1 })).items[0];
    expect(delivered).toMatchObject({ client: 'eoc-app' });
    const after = JSON.parse((await ua.request(`${rpUrl}/me`)).html) as { authenticated: boolean };
    expect(after.authenticated).toBe(false);
  });
});
