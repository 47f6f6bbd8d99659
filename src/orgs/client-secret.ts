import { createHmac, createSecretKey, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { DirectoryStore } from './store.ts';

/**
 * Client secrets are stored as a keyed hash, never as themselves: whoever reads the store (a
 * Redis dump, a replica, a backup) cannot authenticate as a client.
 *
 * Why HMAC-SHA256 under a server key rather than a slow password hash (argon2, scrypt): the
 * secret is checked on every token, status and activity request, and anyone who knows a
 * client_id can send one. A slow hash would make each such request cost tens of milliseconds
 * of CPU (an unauthenticated amplifier on 2 cores), or need a cache of verified secrets to stay
 * usable. A slow hash protects low-entropy secrets; these are machine credentials of at least
 * 16 characters, and what makes a stolen hash useless is the key: derived from
 * CURFEW_IDENTIFIER_KEY, which in production must come from the environment or a file (see
 * src/config/load.ts), never from the store the hashes sit in.
 *
 * A consequence: the provider never holds a client's real secret, so nothing keyed by it can
 * work — HS256-signed ID tokens and request objects, client_secret_jwt. Curfew offers none of
 * them (client metadata allows RS256/ES256 only; the provider's JWA lists and auth methods
 * exclude them).
 */
export interface ClientSecrets {
  /** The stored form of a plaintext secret. Deterministic, so re-applying a seed changes nothing. */
  seal(secret: string): string;
  /** Whether `presented` is the secret whose stored form is `stored`, in constant time. */
  matches(stored: string | undefined, presented: string): boolean;
}

const SCHEME = 'hmac-sha256:';

export function createClientSecrets(identifierKey: string): ClientSecrets {
  // Its own key, so a client-secret hash can never be confused with an identifier hash.
  // A KeyObject made once: a Buffer key is turned into one on every call, the costliest part of a
  // digest (issue 14's refresh profile: about 0.07 ms of every token request's client authentication).
  const key = createSecretKey(Buffer.from(hkdfSync('sha256', identifierKey, 'curfew', 'client secret', 32)));
  const digest = (secret: string) => createHmac('sha256', key).update(secret).digest();
  return {
    seal: (secret) => SCHEME + digest(secret).toString('base64url'),
    matches(stored, presented) {
      if (!stored?.startsWith(SCHEME) || typeof presented !== 'string') return false;
      const expected = Buffer.from(stored.slice(SCHEME.length), 'base64url');
      const actual = digest(presented);
      return expected.length === actual.length && timingSafeEqual(expected, actual);
    },
  };
}

/**
 * Stores written before secrets were hashed hold `client_secret` in the clear: hash each one in
 * place at start, so the plaintext leaves the store and the client keeps working.
 */
export async function sealLegacyClientSecrets(directory: DirectoryStore, secrets: ClientSecrets): Promise<number> {
  let sealed = 0;
  for (const org of await directory.listOrgs()) {
    for (const client of await directory.listClients(org.id)) {
      const { client_secret: legacy, ...record } = client as typeof client & { client_secret?: unknown };
      if (typeof legacy !== 'string') continue;
      await directory.putClient({ ...record, client_secret_hash: secrets.seal(legacy) });
      sealed++;
    }
  }
  return sealed;
}
