import { createHmac, createSecretKey } from 'node:crypto';

/**
 * Session and token identifiers are bearer secrets (a session's id is its cookie value).
 * Store keys carry HMAC-SHA256(key, id) instead, so reading the key space of Redis
 * (SCAN, MONITOR, a dump) never yields a usable identifier.
 */
export type IdentifierHasher = (id: string) => string;

export function createIdentifierHasher(key: string): IdentifierHasher {
  // The key as a KeyObject made once (the same bytes as the string, UTF-8), not converted on every
  // call: several hashes go into every request.
  const secret = createSecretKey(Buffer.from(key, 'utf8'));
  return (id) => createHmac('sha256', secret).update(id).digest('base64url');
}
