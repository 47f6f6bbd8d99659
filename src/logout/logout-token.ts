import { randomBytes } from 'node:crypto';
import { importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { SigningJwks } from '../oidc/keys.ts';

export const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** OIDC Back-Channel Logout 1.0 §2.4: what a logout token says. No `nonce`, ever. */
export interface LogoutTokenClaims {
  iss: string;
  aud: string;
  iat: number;
  exp: number;
  jti: string;
  sub: string;
  sid: string;
  events: { [BACKCHANNEL_EVENT]: Record<string, never> };
}

/** Pure: the claims of one logout token at `nowMs`, valid `lifetimeSeconds` (`backchannel.logoutTokenSeconds`). */
export function logoutTokenClaims(input: { issuer: string; clientId: string; sub: string; sid: string; nowMs: number; lifetimeSeconds: number; jti?: string }): LogoutTokenClaims {
  const iat = Math.floor(input.nowMs / 1000);
  return {
    iss: input.issuer,
    aud: input.clientId,
    iat,
    exp: iat + input.lifetimeSeconds,
    jti: input.jti ?? randomBytes(16).toString('base64url'),
    sub: input.sub,
    sid: input.sid,
    events: { [BACKCHANNEL_EVENT]: {} },
  };
}

export type LogoutTokenSigner = (claims: LogoutTokenClaims, alg: string) => Promise<string>;

/** Signs with the provider's own key for the client's ID-token algorithm, `typ: logout+jwt`. */
export function createLogoutTokenSigner(jwks: SigningJwks): LogoutTokenSigner {
  const keys = new Map<string, Promise<{ key: CryptoKey | Uint8Array; kid: string }>>();
  const keyFor = (alg: string) => {
    let entry = keys.get(alg);
    if (!entry) {
      const jwk = jwks.keys.find((k) => (k as JWK).alg === alg) as JWK | undefined;
      if (!jwk) return Promise.reject(new Error(`no signing key for ${alg}`));
      entry = importJWK(jwk, alg).then((key) => ({ key, kid: String(jwk.kid) }));
      keys.set(alg, entry);
    }
    return entry;
  };
  return async (claims, alg) => {
    const { key, kid } = await keyFor(alg);
    return new SignJWT({ ...claims }).setProtectedHeader({ alg, kid, typ: 'logout+jwt' }).sign(key);
  };
}
