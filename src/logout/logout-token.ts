import { randomBytes } from 'node:crypto';
import { importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
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

/** A logout token an RP would accept: who it names, and what it said. */
export interface VerifiedLogoutToken {
  sid: string;
  /** Its audience: the client it was sent to. */
  client: string;
  claims: JWTPayload;
  alg: string;
}

/**
 * OIDC Back-Channel Logout 1.0 §2.6, as an RP validates a logout token: signed by the issuer's
 * keys, `iss`, `typ: logout+jwt`, an audience the receiver accepts, the back-channel event, a
 * `sid`, and no `nonce`. Throws on anything else. Curfew's own receivers (the console's, the
 * control test's, the demo app's) all judge tokens with it.
 */
export async function verifyLogoutToken(token: string, keys: JWTVerifyGetKey, issuer: string, acceptsAudience: (client: string) => boolean): Promise<VerifiedLogoutToken> {
  const { payload, protectedHeader } = await jwtVerify(token, keys, { issuer, typ: 'logout+jwt' });
  const events = payload.events;
  const client = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
  if (typeof events !== 'object' || events === null || !(BACKCHANNEL_EVENT in events) || 'nonce' in payload || typeof payload.sid !== 'string' || !client || !acceptsAudience(client)) {
    throw new Error('not a logout token');
  }
  return { sid: payload.sid, client, claims: payload, alg: protectedHeader.alg };
}
