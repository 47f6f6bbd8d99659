import argon2 from 'argon2';

/**
 * argon2id with OWASP's second recommended profile (19 MiB, 2 passes, 1 lane): strong enough
 * for a password store, cheap enough that a burst of sign-ins does not starve 2 cores.
 */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    // A malformed stored hash is a failed verification, never a crash of the login.
    return false;
  }
}

/**
 * Verification cost for an unknown username, so response time does not tell which
 * usernames exist.
 */
let dummyHash: Promise<string> | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword('curfew-timing-equaliser');
  await verifyPassword(await dummyHash, password);
}
