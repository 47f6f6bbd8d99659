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

/** The key material this instance keeps in the store (none of it given by configuration), by store name. */
function storedKeys(config: Config, keys: KeyMaterial): Array<[name: string, value: string]> {
  const stored: Array<[string, string]> = [];
  if (!config.secrets.jwks) stored.push(['jwks', JSON.stringify(keys.jwks)]);
  if (!config.secrets.cookieKeys) stored.push(['cookie-key', keys.cookieKeys[0] ?? '']);
  if (!config.secrets.identifierKey) stored.push(['identifier-key', keys.identifierKey]);
  if (!config.secrets.totpKeys) stored.push(['totp-key', keys.totpKeys[0] ?? '']);
  return stored;
}

/**
 * What an instance's store marker says: a digest of the key material it holds from the store
 * (a constant when configuration gives every key). Two instances agree on it exactly when they
 * sign, seal and hash with the same store-kept keys. A digest of 256-bit random keys gives
 * nothing of them away.
 */
export function keyFingerprint(config: Config, keys: KeyMaterial): string {
  const digest = createHash('sha256');
  for (const [name, value] of storedKeys(config, keys)) digest.update(`${name}\0${value}\0`);
  return `keys:${digest.digest('base64url').slice(0, 22)}`;
}

/**
 * After the store lost its state: puts back the key material this instance holds in memory
 * (never new keys), so tokens, cookies and sealed TOTP secrets made before the wipe still verify
 * and client secret hashes of the re-applied seed match. SET NX, as at first start: of instances
 * restoring at once, one value wins. Returns the names whose stored value is now another
 * instance's (only possible when an instance started on the empty store and made new keys).
 */
export async function restoreKeyMaterial(config: Config, secrets: SecretStore, keys: KeyMaterial): Promise<string[]> {
  const differ: string[] = [];
  for (const [name, value] of storedKeys(config, keys)) {
    if ((await secrets.getOrCreate(name, () => value)) !== value) differ.push(name);
  }
  return differ;
}
