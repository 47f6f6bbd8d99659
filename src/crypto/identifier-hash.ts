import { createHmac } from 'node:crypto';

/**
 * Session and token identifiers are bearer secrets (a session's id is its cookie value).
 * Store keys carry HMAC-SHA256(key, id) instead, so reading the key space of Redis
 * (SCAN, MONITOR, a dump) never yields a usable identifier.
 */
export type IdentifierHasher = (id: string) => string;

export function createIdentifierHasher(key: string): IdentifierHasher {
  return (id) => createHmac('sha256', key).update(id).digest('base64url');
}
