import { createHash, generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import type { SecretStore } from '../store/types.ts';

export interface SigningJwks {
  keys: JsonWebKey[];
}

export interface KeyMaterial {
  /** Private JWKS: RS256 first (the default for clients), then ES256. */
  jwks: SigningJwks;
  /** Cookie signing keys, newest first. */
  cookieKeys: string[];
  identifierKey: string;
  /** kid:base64 AES-256 keys for TOTP secrets at rest, newest first. */
  totpKeys: string[];
}

/** RFC 7638 thumbprint, so a key's `kid` is stable and derived, never chosen. */
function thumbprint(jwk: JsonWebKey): string {
  const members =
    jwk.kty === 'RSA' ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

function signingKey(kind: 'RS256' | 'ES256'): JsonWebKey {
  const { privateKey } =
    kind === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: thumbprint(jwk), alg: kind, use: 'sig' };
}

export function generateJwks(): SigningJwks {
  return { keys: [signingKey('RS256'), signingKey('ES256')] };
}

const randomSecret = () => randomBytes(32).toString('base64url');

/**
 * Keys come from configuration when given; otherwise they are generated once and kept in the
 * store, so every instance signs with the same keys and a restart invalidates no token or cookie.
 */
export async function loadKeyMaterial(config: Config, secrets: SecretStore): Promise<KeyMaterial> {
  const jwks = config.secrets.jwks
    ? (config.secrets.jwks as SigningJwks)
    : (JSON.parse(await secrets.getOrCreate('jwks', () => JSON.stringify(generateJwks()))) as SigningJwks);
  const cookieKeys =
    config.secrets.cookieKeys ?? [await secrets.getOrCreate('cookie-key', randomSecret)];
  const identifierKey = config.secrets.identifierKey ?? (await secrets.getOrCreate('identifier-key', randomSecret));
  const totpKeys = config.secrets.totpKeys ?? [await secrets.getOrCreate('totp-key', () => `g1:${randomBytes(32).toString('base64url')}`)];
  return { jwks, cookieKeys, identifierKey, totpKeys };
}
