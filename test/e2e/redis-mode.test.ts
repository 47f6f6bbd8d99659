import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORDS, RP_CALLBACK, testSeed } from '../support/curfew.ts';
import { freePort, startMain, type Started } from '../support/process.ts';
import { deletePrefix, freshPrefix, REDIS_URL } from '../support/redis.ts';
import { UserAgent } from '../support/user-agent.ts';

/** The real entry point in Redis mode, seeded by CURFEW_SEED, driven by openid-client. */
describe('npm start with REDIS_URL and CURFEW_SEED', () => {
  const prefix = freshPrefix('main');
  let app: Started;
  let base: string;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'curfew-seed-'));
    const seedFile = join(dir, 'seed.json');
    writeFileSync(seedFile, JSON.stringify(testSeed()));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    app = await startMain({ PORT: String(port), ISSUER: base, REDIS_URL, CURFEW_REDIS_PREFIX: prefix, CURFEW_SEED: seedFile }, /Curfew is serving/);
  });
  afterAll(async () => {
    await app?.stop();
    await deletePrefix(prefix);
  });

  it('does not mount the demo app or print demo credentials', async () => {
    expect(app.output()).not.toContain('Sign in:');
    expect((await fetch(`${base}/demo`, { redirect: 'manual' })).status).toBe(404);
  });

  it('reports Redis as its store and signs a seeded user in', async () => {
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: 'ready', store: 'redis' });
    const rp = await oidc.discovery(new URL(base), 'acme-app', undefined, oidc.ClientSecretBasic('acme-app-secret-0123456789'), {
      execute: [oidc.allowInsecureRequests],
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: RP_CALLBACK,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const ua = new UserAgent(base);
    const login = await ua.navigate(url.href);
    const done = await ua.submit(login, '/login', { username: 'alice', password: PASSWORDS.alice });
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(done.leftTo!), { pkceCodeVerifier: verifier });
    expect(tokens.claims()?.acr).toBe('urn:curfew:acr:pwd');
  });
});
