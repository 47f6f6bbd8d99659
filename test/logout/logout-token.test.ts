import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { generateJwks } from '../../src/oidc/keys.ts';
import { BACKCHANNEL_EVENT, createLogoutTokenSigner, logoutTokenClaims, verifyLogoutToken } from '../../src/logout/logout-token.ts';

const input = { issuer: 'https://id.example.com', clientId: 'app', sub: 'u1', sid: 's1', lifetimeSeconds: 120 };

describe('logout token claims (Back-Channel Logout 1.0 §2.4)', () => {
  it('is issued at now, in whole seconds, and expires the configured lifetime later', () => {
    const nowMs = Date.now();
    const claims = logoutTokenClaims({ ...input, nowMs: nowMs + 999 - (nowMs % 1000), lifetimeSeconds: 45 });
    expect(claims.iat).toBe(Math.floor(nowMs / 1000));
    expect(claims.exp - claims.iat).toBe(45);
  });

  it('names the RP session and carries the back-channel event, never a nonce', () => {
    const claims = logoutTokenClaims({ ...input, nowMs: Date.now(), jti: 'j1' });
    expect(claims).toMatchObject({ iss: input.issuer, aud: 'app', sub: 'u1', sid: 's1', jti: 'j1', events: { [BACKCHANNEL_EVENT]: {} } });
    expect(claims).not.toHaveProperty('nonce');
  });

  it('gives each token a fresh jti', () => {
    const a = logoutTokenClaims({ ...input, nowMs: Date.now() });
    const b = logoutTokenClaims({ ...input, nowMs: Date.now() });
    expect(a.jti).not.toBe(b.jti);
    expect(a.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe('logout token signer', () => {
  const sign = createLogoutTokenSigner(generateJwks());

  it.each(['RS256', 'ES256'])('signs %s with the provider key of that algorithm, typ logout+jwt', async (alg) => {
    const token = await sign(logoutTokenClaims({ ...input, nowMs: Date.now(), jti: 'j2' }), alg);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg, typ: 'logout+jwt' });
    expect(decodeJwt(token)).toMatchObject({ jti: 'j2', sid: 's1' });
  });

  it('refuses an algorithm it has no key for', async () => {
    await expect(sign(logoutTokenClaims({ ...input, nowMs: Date.now() }), 'PS512')).rejects.toThrow(/no signing key for PS512/);
  });
});

describe('verifying a logout token as an RP does (Back-Channel Logout 1.0 §2.6)', () => {
  const jwks = generateJwks();
  const sign = createLogoutTokenSigner(jwks);
  const keys = createLocalJWKSet({ keys: jwks.keys.map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub }) => pub) as JWK[] });
  const forApp = (client: string) => client === 'app';
  const token = (claims: Record<string, unknown>) => sign({ ...logoutTokenClaims({ ...input, nowMs: Date.now() }), ...claims } as never, 'ES256');

  it('accepts a token for an audience the receiver takes, and says whose session it ends', async () => {
    const verified = await verifyLogoutToken(await token({}), keys, input.issuer, forApp);
    expect(verified).toMatchObject({ sid: 's1', client: 'app', alg: 'ES256', claims: { sub: 'u1' } });
  });

  it('refuses another issuer, another audience, no event, a nonce, or no sid', async () => {
    const { sid: _sid, ...noSid } = logoutTokenClaims({ ...input, nowMs: Date.now() });
    await expect(verifyLogoutToken(await token({}), keys, 'https://other.example', forApp)).rejects.toThrow();
    await expect(verifyLogoutToken(await token({ aud: 'other' }), keys, input.issuer, forApp)).rejects.toThrow('not a logout token');
    await expect(verifyLogoutToken(await token({ events: {} }), keys, input.issuer, forApp)).rejects.toThrow('not a logout token');
    await expect(verifyLogoutToken(await token({ nonce: 'n' }), keys, input.issuer, forApp)).rejects.toThrow('not a logout token');
    await expect(verifyLogoutToken(await sign(noSid as never, 'ES256'), keys, input.issuer, forApp)).rejects.toThrow('not a logout token');
  });
});
