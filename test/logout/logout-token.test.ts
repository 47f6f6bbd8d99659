import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { generateJwks } from '../../src/oidc/keys.ts';
import { BACKCHANNEL_EVENT, createLogoutTokenSigner, logoutTokenClaims } from '../../src/logout/logout-token.ts';

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
